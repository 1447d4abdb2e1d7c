package dev.mixlab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** OpenBLAS through the Foreign Function &amp; Memory API (no JNI): cblas_sgemm and identification. */
public final class OpenBlas {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private static final MethodHandle SGEMM, SET_THREADS, CORENAME, CONFIG;
    /** Why the library could not be used, or null when it is available. */
    public static final String MISSING;

    static {
        MethodHandle sgemm = null, setThreads = null, corename = null, config = null;
        String missing = null;
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
            Linker l = Linker.nativeLinker();
            ValueLayout.OfInt I = ValueLayout.JAVA_INT;
            ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
            ValueLayout P = ValueLayout.ADDRESS;
            sgemm = l.downcallHandle(lib.findOrThrow("cblas_sgemm"),
                    FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, P, I, P, I, F, P, I));
            setThreads = l.downcallHandle(lib.findOrThrow("openblas_set_num_threads"), FunctionDescriptor.ofVoid(I));
            corename = l.downcallHandle(lib.findOrThrow("openblas_get_corename"), FunctionDescriptor.of(P));
            config = l.downcallHandle(lib.findOrThrow("openblas_get_config"), FunctionDescriptor.of(P));
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            missing = e.getMessage();
        }
        SGEMM = sgemm;
        SET_THREADS = setThreads;
        CORENAME = corename;
        CONFIG = config;
        MISSING = missing;
    }

    private OpenBlas() {}

    public static boolean available() {
        return MISSING == null;
    }

    public static void setThreads(int n) {
        try {
            SET_THREADS.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static String cString(MethodHandle h) {
        try {
            MemorySegment p = (MemorySegment) h.invokeExact();
            return p.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static String corename() {
        return cString(CORENAME);
    }

    public static String config() {
        return cString(CONFIG);
    }

    /** Same index semantics as MatMul.matmul, on native row-major buffers. */
    public static void sgemm(MemorySegment a, boolean transA, MemorySegment b, boolean transB, MemorySegment c,
                             int M, int N, int K, boolean accumulate) {
        try {
            SGEMM.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, 1f,
                    a, transA ? M : K, b, transB ? K : N, accumulate ? 1f : 0f, c, N);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
