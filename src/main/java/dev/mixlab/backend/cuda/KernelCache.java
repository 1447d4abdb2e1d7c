package dev.mixlab.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The kernels' CUDA C source, compiled by NVRTC for the GPU found and cached on disk under
 * {@code ~/.cache/mixlab/cuda} (or {@code $MIXLAB_CACHE}); the key is a hash of the source, the
 * architecture and the NVRTC version. A cache entry the driver refuses is deleted and rebuilt.
 */
final class KernelCache {
    private KernelCache() {}

    static final String RESOURCE = "/dev/mixlab/backend/cuda/kernels.cu";

    static String source() {
        try (InputStream in = KernelCache.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new CudaException("kernel source " + RESOURCE + " missing from the jar; rebuild mixlab");
            return defines() + new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CudaException("cannot read " + RESOURCE + ": " + e.getMessage());
        }
    }

    /**
     * {@code -Dmixlab.cuda.defines=NAME=VALUE,...} as {@code #define} lines before the source (part of
     * the cache key): for trying kernel variants, e.g. {@code MMA_BWD_MINB=3}, without a rebuild.
     */
    private static String defines() {
        StringBuilder b = new StringBuilder();
        for (String d : System.getProperty("mixlab.cuda.defines", "").split(",")) {
            if (d.isBlank()) continue;
            String[] kv = d.trim().split("=", 2);
            if (!kv[0].matches("[A-Za-z_][A-Za-z0-9_]*") || (kv.length > 1 && !kv[1].matches("[A-Za-z0-9_.+-]*"))) {
                throw new CudaException("-Dmixlab.cuda.defines: '" + d + "' is not NAME or NAME=VALUE");
            }
            b.append("#define ").append(kv[0]).append(kv.length > 1 ? " " + kv[1] : "").append('\n');
        }
        return b.toString();
    }

    static Path dir() {
        String env = System.getenv("MIXLAB_CACHE");
        return (env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "mixlab")).resolve("cuda");
    }

    /** Loaded module and whether it came from the cache. */
    record Loaded(MemorySegment module, boolean cached, double compileSeconds) {}

    static Loaded load(Driver d, int arch) {
        String src = source();
        Nvrtc nvrtc = Nvrtc.get();
        String key = sha256(src + "\0sm_" + arch + "\0nvrtc " + nvrtc.version());
        Path file = dir().resolve(key + ".cubin");
        if (Files.exists(file)) {
            try {
                byte[] bin = Files.readAllBytes(file);
                return new Loaded(d.loadModule(Arena.global().allocateFrom(ValueLayout.JAVA_BYTE, bin)), true, 0);
            } catch (IOException | CudaException e) {
                try {
                    Files.deleteIfExists(file);   // corrupt or stale: rebuild below
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
        long t0 = System.nanoTime();
        byte[] bin = nvrtc.compile(src, "kernels.cu", arch);
        double secs = (System.nanoTime() - t0) / 1e9;
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid());
            Files.write(tmp, bin);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // a read-only home is no reason to fail: compile again next time
        }
        return new Loaded(d.loadModule(Arena.global().allocateFrom(ValueLayout.JAVA_BYTE, bin)), false, secs);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
