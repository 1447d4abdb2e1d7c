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

/**
 * cuBLAS through FFM, for the matrix products. Row-major {@code C = op(A)·op(B)} is computed as the
 * column-major {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}, so no operand is ever transposed in memory.
 */
final class Cublas {
    private final MethodHandle sgemm, setStream, setWorkspace, setMath;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment one, zero;

    Cublas(MemorySegment stream, long workspace, long workspaceBytes, boolean tf32) {
        SymbolLookup lib = Native.load("cuBLAS (libcublas.so.13 or .12)", "install the CUDA toolkit's cuBLAS (e.g. libcublas-13-0)",
                "libcublas.so.13", "libcublas.so.12");
        MethodHandle create = Native.fn(lib, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = Native.fn(lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setWorkspace = Native.fn(lib, "cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        setMath = Native.fn(lib, "cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        sgemm = Native.fn(lib, "cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        MemorySegment p = arena.allocate(ADDRESS);
        check(Driver.call(create, p), "cublasCreate");
        handle = p.get(ADDRESS, 0);
        check(Driver.call(setStream, handle, stream), "cublasSetStream");
        // a fixed workspace keeps cuBLAS from allocating while a CUDA graph is being captured
        check(Driver.call(setWorkspace, handle, workspace, workspaceBytes), "cublasSetWorkspace");
        check(Driver.call(setMath, handle, tf32 ? 3 : 0), "cublasSetMathMode");
        one = arena.allocateFrom(JAVA_FLOAT, 1f);
        zero = arena.allocateFrom(JAVA_FLOAT, 0f);
    }

    private static void check(int rc, String what) {
        if (rc != 0) throw new CudaException(what + " failed: cuBLAS status " + rc);
    }

    /** Row-major C[M,N] = op(A)[M,K]·op(B)[K,N] with the IR's storage conventions (see MatMul). */
    void matmul(long a, boolean transA, long b, boolean transB, long c, int m, int n, int k) {
        int opB = transB ? 1 : 0, ldb = transB ? k : n;
        int opA = transA ? 1 : 0, lda = transA ? m : k;
        check(Driver.call(sgemm, handle, opB, opA, n, m, k, one, b, ldb, a, lda, zero, c, n), "cublasSgemm");
    }
}
