package dev.mixlab.data;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Read-only memory mapping of a whole file, turning I/O failures into {@link DataException}. */
final class Mmap {
    private Mmap() {}

    /**
     * Maps {@code file} read-only. The automatic arena unmaps it once no token source refers to
     * it any more; TokenData has no close(), and data files live for the whole run anyway.
     */
    static MemorySegment map(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                return MemorySegment.NULL; // mapping zero bytes is not portable
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
        } catch (IOException | UnsupportedOperationException e) {
            throw new DataException(file.toString(), "cannot read the file (" + e + ")",
                    "check that it exists and is readable");
        }
    }
}
