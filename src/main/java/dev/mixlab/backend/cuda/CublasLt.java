package dev.mixlab.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * cuBLASLt through FFM, with autotuning: for each distinct problem (shape, transposes, strides,
 * alignment) it asks the heuristic for up to {@link #CANDIDATES} algorithms, times each on the real
 * buffers, and keeps the fastest. Why: on the H100 the plain cuBLAS heuristic picks a kernel for the
 * float32/TF32 {@code X·Wᵀ} products of a d=384 model that runs at a quarter of the rate of the same
 * product without the transpose (measured: 177 µs vs 40 µs for 16384×384×384); timing the candidates
 * once costs well under a second per program and removes such cliffs.
 */
final class CublasLt {
    /** Algorithms timed per problem ({@code -Dmixlab.cuda.ltCandidates}, default 8). */
    static final int CANDIDATES = Integer.getInteger("mixlab.cuda.ltCandidates", 8);
    private static final int CUDA_R_32F = 0, RESULT_BYTES = 96, ALGO_BYTES = 64;
    private final MethodHandle descCreate, descSet, layoutCreate, layoutSet, prefCreate, prefSet, heuristic, matmul;
    private final MemorySegment handle;
    private final Driver d;
    private final MemorySegment stream;
    private final long workspace, workspaceBytes;
    private final Arena arena = Arena.ofShared();
    private final Map<String, MemorySegment> tuned = new HashMap<>();

    CublasLt(Driver d, MemorySegment stream, long workspace, long workspaceBytes) {
        this.d = d;
        this.stream = stream;
        this.workspace = workspace;
        this.workspaceBytes = workspaceBytes;
        SymbolLookup lib = Native.load("cuBLASLt (libcublasLt.so.13 or .12)", "install the CUDA toolkit's cuBLAS (e.g. libcublas-13-0)",
                "libcublasLt.so.13", "libcublasLt.so.12");
        MethodHandle create = Native.fn(lib, "cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        descCreate = Native.fn(lib, "cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        descSet = Native.fn(lib, "cublasLtMatmulDescSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        layoutCreate = Native.fn(lib, "cublasLtMatrixLayoutCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        layoutSet = Native.fn(lib, "cublasLtMatrixLayoutSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        prefCreate = Native.fn(lib, "cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        prefSet = Native.fn(lib, "cublasLtMatmulPreferenceSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        heuristic = Native.fn(lib, "cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        // (handle, desc, alpha*, A, Adesc, B, Bdesc, beta*, C, Cdesc, D, Ddesc, algo*, workspace, wsBytes, stream)
        matmul = Native.fn(lib, "cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        MemorySegment p = arena.allocate(ADDRESS);
        Cublas.check(Driver.call(create, p), "cublasLtCreate");
        handle = p.get(ADDRESS, 0);
    }

    private MemorySegment layout(int type, long rows, long cols, long ld, int batch, long stride) {
        MemorySegment p = arena.allocate(ADDRESS);
        Cublas.check(Driver.call(layoutCreate, p, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
        MemorySegment l = p.get(ADDRESS, 0);
        if (batch > 1) {
            Cublas.check(Driver.call(layoutSet, l, 5, arena.allocateFrom(JAVA_INT, batch), 4L), "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
            Cublas.check(Driver.call(layoutSet, l, 6, arena.allocateFrom(JAVA_LONG, stride), 8L), "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
        }
        return l;
    }

    /** Largest power of two (≤ 256) dividing the byte address of every batch entry. */
    private static int alignment(long ptr, long strideElems, int batch, int elemBytes) {
        long x = ptr | (batch > 1 ? strideElems * elemBytes : 0) | 256;
        return (int) Long.lowestOneBit(x);
    }

    /**
     * The batched row-major product of {@link Cublas#gemm}, or null where the heuristic offers no
     * algorithm (the caller then falls back to plain cuBLAS).
     */
    Runnable gemm(long a, int lda, long strideA, boolean transA, long b, int ldb, long strideB, boolean transB,
                  long c, long dst, int ldc, long strideC, int m, int n, int k, float alpha, float beta, int batch, int abType, int cType,
                  int computeType, Cublas.Epilogue epi) {
        // column-major view: Cᵀ[n×m] = op(B)ᵀ[n×k]·op(A)ᵀ[k×m]; Lt's "A" is our B and its "B" our A
        int abBytes = abType == Cublas.CUDA_R_16BF ? 2 : 4, cBytes = cType == Cublas.CUDA_R_16BF ? 2 : 4;
        MemorySegment p = arena.allocate(ADDRESS);
        Cublas.check(Driver.call(descCreate, p, computeType, CUDA_R_32F), "cublasLtMatmulDescCreate");
        MemorySegment desc = p.get(ADDRESS, 0);
        Cublas.check(Driver.call(descSet, desc, 3, arena.allocateFrom(JAVA_INT, transB ? 1 : 0), 4L), "cublasLtMatmulDescSetAttribute(TRANSA)");
        Cublas.check(Driver.call(descSet, desc, 4, arena.allocateFrom(JAVA_INT, transA ? 1 : 0), 4L), "cublasLtMatmulDescSetAttribute(TRANSB)");
        if (epi != null) {
            Cublas.check(Driver.call(descSet, desc, 7, arena.allocateFrom(JAVA_INT, epi.code()), 4L), "cublasLtMatmulDescSetAttribute(EPILOGUE)");
            if (epi.bias() != 0) {
                Cublas.check(Driver.call(descSet, desc, 8, arena.allocateFrom(JAVA_LONG, epi.bias()), 8L), "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
                Cublas.check(Driver.call(descSet, desc, 26, arena.allocateFrom(JAVA_INT, CUDA_R_32F), 4L), "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
            }
            if (epi.aux() != 0) {
                Cublas.check(Driver.call(descSet, desc, 11, arena.allocateFrom(JAVA_LONG, epi.aux()), 8L), "cublasLtMatmulDescSetAttribute(EPILOGUE_AUX_POINTER)");
                Cublas.check(Driver.call(descSet, desc, 12, arena.allocateFrom(JAVA_LONG, epi.auxLd()), 8L), "cublasLtMatmulDescSetAttribute(EPILOGUE_AUX_LD)");
            }
        }
        MemorySegment la = transB ? layout(abType, k, n, ldb, batch, strideB) : layout(abType, n, k, ldb, batch, strideB);
        MemorySegment lb = transA ? layout(abType, m, k, lda, batch, strideA) : layout(abType, k, m, lda, batch, strideA);
        MemorySegment lc = layout(cType, n, m, ldc, batch, strideC);
        int alA = alignment(b, strideB, batch, abBytes), alB = alignment(a, strideA, batch, abBytes), alC = alignment(c, strideC, batch, cBytes);
        String key = String.join(",", "" + transA, "" + transB, "" + m, "" + n, "" + k, "" + lda, "" + ldb, "" + ldc, "" + strideA,
                "" + strideB, "" + strideC, "" + batch, "" + alA, "" + alB, "" + alC, "" + (beta != 0), "" + (c == dst), "" + abType, "" + cType,
                "" + (epi == null ? 0 : epi.code()) + "/" + (epi == null ? 0 : alignment(epi.aux(), 0, 1, cBytes)),
                "" + computeType);
        MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
        MemorySegment algo = tuned.get(key);
        if (algo == null) {
            MemorySegment pp = arena.allocate(ADDRESS);
            Cublas.check(Driver.call(prefCreate, pp), "cublasLtMatmulPreferenceCreate");
            MemorySegment pref = pp.get(ADDRESS, 0);
            Cublas.check(Driver.call(prefSet, pref, 1, arena.allocateFrom(JAVA_LONG, workspaceBytes), 8L), "cublasLtMatmulPreferenceSetAttribute");
            Cublas.check(Driver.call(prefSet, pref, 5, arena.allocateFrom(JAVA_INT, alA), 4L), "cublasLtMatmulPreferenceSetAttribute");
            Cublas.check(Driver.call(prefSet, pref, 6, arena.allocateFrom(JAVA_INT, alB), 4L), "cublasLtMatmulPreferenceSetAttribute");
            Cublas.check(Driver.call(prefSet, pref, 7, arena.allocateFrom(JAVA_INT, alC), 4L), "cublasLtMatmulPreferenceSetAttribute");
            Cublas.check(Driver.call(prefSet, pref, 8, arena.allocateFrom(JAVA_INT, alC), 4L), "cublasLtMatmulPreferenceSetAttribute");
            MemorySegment results = arena.allocate((long) RESULT_BYTES * CANDIDATES, 8);
            MemorySegment count = arena.allocate(JAVA_INT);
            int rc = Driver.call(heuristic, handle, desc, la, lb, lc, lc, pref, CANDIDATES, results, count);
            int found = rc == 0 ? count.get(JAVA_INT, 0) : 0;
            if (found == 0) return null;
            algo = fastest(results, found, desc, al, b, la, a, lb, be, c, dst, lc);
            tuned.put(key, algo);
        }
        MemorySegment chosen = algo;
        return () -> Cublas.check(Driver.call(matmul, handle, desc, al, b, la, a, lb, be, c, lc, dst, lc, chosen, workspace, workspaceBytes, stream),
                "cublasLtMatmul");
    }

    /** Times each candidate (a warm-up, then the mean of a few runs) and returns the fastest algorithm. */
    private MemorySegment fastest(MemorySegment results, int found, MemorySegment desc, MemorySegment al, long x, MemorySegment lx,
                                  long y, MemorySegment ly, MemorySegment be, long c, long dst, MemorySegment lc) {
        MemorySegment start = d.event(), end = d.event();
        MemorySegment best = null;
        float bestMs = Float.MAX_VALUE;
        for (int i = 0; i < found; i++) {
            MemorySegment r = results.asSlice((long) i * RESULT_BYTES, RESULT_BYTES);
            if (r.get(JAVA_INT, ALGO_BYTES + 8) != 0) continue;                 // state: not usable
            if (r.get(JAVA_LONG, ALGO_BYTES) > workspaceBytes) continue;
            MemorySegment algo = r.asSlice(0, ALGO_BYTES);
            if (Driver.call(matmul, handle, desc, al, x, lx, y, ly, be, c, lc, dst, lc, algo, workspace, workspaceBytes, stream) != 0) continue;
            int reps = 5;
            d.record(start, stream);
            for (int j = 0; j < reps; j++) Driver.call(matmul, handle, desc, al, x, lx, y, ly, be, c, lc, dst, lc, algo, workspace, workspaceBytes, stream);
            d.record(end, stream);
            d.sync(stream);
            float ms = d.elapsed(start, end) / reps;
            if (ms < bestMs) {
                bestMs = ms;
                best = algo;
            }
        }
        if (best == null) best = results.asSlice(0, ALGO_BYTES);
        MemorySegment keep = arena.allocate(ALGO_BYTES, 8);
        keep.copyFrom(best);
        return keep;
    }
}
