package dev.mixlab.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes tiny token shards for tests, optionally with a broken header. */
final class Shards {
    private Shards() {}

    static Path write(Path file, int... tokens) throws IOException {
        return writeRaw(file, ShardTokens.MAGIC, 1, tokens.length, tokens);
    }

    static Path writeRaw(Path file, int magic, int version, int count, int... tokens)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1024 + 2 * tokens.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, magic).putInt(4, version).putInt(8, count);
        for (int i = 0; i < tokens.length; i++) {
            b.putShort(1024 + 2 * i, (short) tokens[i]);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, b.array());
        return file;
    }

    static int[] range(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }
}
