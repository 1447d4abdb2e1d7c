package dev.mixlab.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Loading a native library and looking up functions in it through the FFM API. */
final class Native {
    private Native() {}

    static final Linker LINKER = Linker.nativeLinker();

    /** Directories searched besides the loader's own path, in order. */
    static final List<String> DIRS = List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
            "/usr/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib64");

    /** A loaded library, or an exception whose message names what was looked for and what to install. */
    static SymbolLookup load(String what, String install, String... names) {
        List<String> tried = new ArrayList<>();
        String extra = System.getenv("MIXLAB_CUDA_LIB");
        List<String> dirs = new ArrayList<>();
        if (extra != null) dirs.add(extra);
        dirs.addAll(DIRS);
        for (String n : names) {
            for (String d : dirs) {
                Path p = Path.of(d, n);
                if (Files.exists(p)) {
                    try {
                        return SymbolLookup.libraryLookup(p, Arena.global());
                    } catch (IllegalArgumentException e) {
                        tried.add(p + " (" + e.getMessage() + ")");
                    }
                }
            }
            try {
                return SymbolLookup.libraryLookup(n, Arena.global());
            } catch (IllegalArgumentException e) {
                tried.add(n);
            }
        }
        throw new CudaException(what + " not found (tried " + String.join(", ", tried) + "); " + install);
    }

    static MethodHandle fn(SymbolLookup lib, String name, FunctionDescriptor d) {
        Optional<MemorySegment> s = lib.find(name);
        if (s.isEmpty()) throw new CudaException("symbol " + name + " missing from the CUDA libraries; update the driver/toolkit");
        return LINKER.downcallHandle(s.get(), d);
    }
}
