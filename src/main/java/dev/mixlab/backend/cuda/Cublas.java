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
import java.util.Locale;

/**
 * cuBLAS through FFM, for the matrix products. Row-major {@code C = op(A)·op(B)} is computed as the
 * column-major {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}, so no operand is ever transposed in memory. Every product
 * goes through the autotuned {@link CublasLt} (or {@code cublasGemmStridedBatchedEx} where it offers no
 * algorithm) with float32 storage; the compute type is the precision choice (see {@link Precision}).
 */
final class Cublas {
    /**
     * How products are computed. BF16 (the default): the operands of every {@code MatMul} node are
     * stored as bf16 copies (see {@code HalfPlan}) and multiplied on bf16 tensor cores with float32
     * accumulation and float32 results, as PyTorch's autocast does. TF32: float32 operands on TF32
     * tensor cores (inputs rounded to 10 mantissa bits). FP32: exact SIMT SGEMM, for parity tests.
     * Products over float32 operands (attention's GEMM path, grouped expert products) run on TF32
     * in both BF16 and TF32 modes.
     */
    enum Precision {
        FP32(68), TF32(77), BF16(77);

        /** The compute type for float32 operands. */
        final int computeType;

        Precision(int computeType) {
            this.computeType = computeType;
        }

        /** {@code -Dmixlab.cuda.fp32=true} forces FP32; else {@code -Dmixlab.cuda.matmul=bf16|tf32|fp32} (default BF16). */
        static Precision fromProperties() {
            if (Boolean.getBoolean("mixlab.cuda.fp32")) return FP32;
            String s = System.getProperty("mixlab.cuda.matmul", "bf16");
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CudaException("-Dmixlab.cuda.matmul=" + s + " is not one of bf16, tf32, fp32");
            }
        }
    }

    /** cudaDataType values: float32 and bfloat16 storage. */
    static final int CUDA_R_32F = 0, CUDA_R_16BF = 14;
    /** CUBLAS_COMPUTE_32F: the compute type for bf16 operands (float32 accumulation on bf16 tensor cores). */
    static final int COMPUTE_32F = 68;
    private static final int GEMM_DEFAULT = -1;
    private final MethodHandle gemm, setStream, setWorkspace;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    final Precision precision;
    /** The autotuned cuBLASLt path, null with {@code -Dmixlab.cuda.lt=false}. */
    private final CublasLt lt;
    private final Driver d;
    private final MemorySegment stream;

    Cublas(Driver d, MemorySegment stream, long workspace, long workspaceBytes, Precision precision) {
        this.precision = precision;
        this.d = d;
        this.stream = stream;
        this.lt = Boolean.parseBoolean(System.getProperty("mixlab.cuda.lt", "true"))
                ? new CublasLt(d, stream, workspace, workspaceBytes) : null;
        SymbolLookup lib = Native.load("cuBLAS (libcublas.so.13 or .12)", "install the CUDA toolkit's cuBLAS (e.g. libcublas-13-0)",
                "libcublas.so.13", "libcublas.so.12");
        MethodHandle create = Native.fn(lib, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = Native.fn(lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setWorkspace = Native.fn(lib, "cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        // (handle, opA, opB, m, n, k, alpha*, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta*, C, Ctype, ldc, strideC,
        //  batch, computeType, algo)
        gemm = Native.fn(lib, "cublasGemmStridedBatchedEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
        MemorySegment p = arena.allocate(ADDRESS);
        check(Driver.call(create, p), "cublasCreate");
        handle = p.get(ADDRESS, 0);
        check(Driver.call(setStream, handle, stream), "cublasSetStream");
        // a fixed workspace keeps cuBLAS from allocating while a CUDA graph is being captured
        check(Driver.call(setWorkspace, handle, workspace, workspaceBytes), "cublasSetWorkspace");
    }

    /** A cuBLAS / cuBLASLt status: 0, or an exception naming the call. */
    static void check(int rc, String what) {
        if (rc != 0) throw new CudaException(what + " failed: cuBLAS status " + rc);
    }

    /**
     * Row-major C[M,N] = op(A)[M,K]·op(B)[K,N] with the IR's storage conventions (see MatMul); with acc
     * non-zero, C = op(A)·op(B) + acc (acc float32 [M,N], read before C is written, so it may be C itself);
     * then the cuBLASLt epilogue epi (null for none).
     */
    Runnable matmul(long a, boolean transA, long b, boolean transB, long c, long acc, Epilogue epi, int m, int n, int k) {
        return gemm(a, transA ? m : k, 0, transA, b, transB ? k : n, 0, transB, acc != 0 ? acc : c, c, n, 0, m, n, k, 1f,
                acc != 0 ? 1f : 0f, 1, CUDA_R_32F, CUDA_R_32F, epi);
    }

    /**
     * The same product over bf16 operands (A and B stored as bf16), float32 accumulation, C stored as
     * float32 or (cHalf) bf16; acc (float32 C only) and epi as in {@link #matmul}.
     */
    Runnable matmulHalf(long a, boolean transA, long b, boolean transB, long c, boolean cHalf, long acc, Epilogue epi, int m, int n, int k) {
        if (acc != 0 && cHalf) throw new IllegalArgumentException("an accumulated product writes float32");
        return gemm(a, transA ? m : k, 0, transA, b, transB ? k : n, 0, transB, acc != 0 ? acc : c, c, n, 0, m, n, k, 1f,
                acc != 0 ? 1f : 0f, 1, CUDA_R_16BF, cHalf ? CUDA_R_16BF : CUDA_R_32F, epi);
    }

    /**
     * What cuBLASLt's epilogue does after a row-major product C[M,N]: code is cublasLtEpilogue_t (BIAS 4:
     * add bias[N] to every row; GELU 32: the tanh-approximated GELU; GELU_AUX 160: GELU, and the
     * pre-activation written to aux (row stride auxLd, C's storage type); GELU_BIAS 36 and GELU_AUX_BIAS
     * 164: both). bias is float32; 0 where unused.
     */
    record Epilogue(int code, long bias, long aux, long auxLd) {
        static final int BIAS = 4, GELU = 32, GELU_AUX = 160, GELU_BIAS = 36, GELU_AUX_BIAS = 164;

        /** The epilogue for a product followed by a bias add (bias ≠ 0) and/or a GELU writing its pre-activation to aux (≠ 0). */
        static Epilogue of(long bias, boolean gelu, long aux, long auxLd) {
            int code = !gelu ? BIAS : aux != 0 ? (bias != 0 ? GELU_AUX_BIAS : GELU_AUX) : (bias != 0 ? GELU_BIAS : GELU);
            return new Epilogue(code, bias, aux, auxLd);
        }
    }

    /**
     * A batched row-major product {@code C_z = alpha·op(A_z)·op(B_z) + beta·C_z} for z < batch, with
     * row strides (lda, ldb, ldc) and element strides between batch entries; returns the call, with
     * its scalars fixed, to run on the stream later.
     */
    Runnable gemm(long a, int lda, long strideA, boolean transA, long b, int ldb, long strideB, boolean transB,
                  long c, int ldc, long strideC, int m, int n, int k, float alpha, float beta, int batch) {
        return gemm(a, lda, strideA, transA, b, ldb, strideB, transB, c, c, ldc, strideC, m, n, k, alpha, beta, batch, CUDA_R_32F,
                CUDA_R_32F, null);
    }

    /**
     * {@link #gemm} with the storage types of A and B (abType) and of C and D (cType): D = alpha·op(A)·op(B)
     * + beta·C, where D may be C itself.
     */
    private Runnable gemm(long a, int lda, long strideA, boolean transA, long b, int ldb, long strideB, boolean transB,
                          long c, long dst, int ldc, long strideC, int m, int n, int k, float alpha, float beta, int batch, int abType,
                          int cType, Epilogue epi) {
        int ct = abType == CUDA_R_16BF ? COMPUTE_32F : precision.computeType;
        if (lt != null) {
            Runnable r = lt.gemm(a, lda, strideA, transA, b, ldb, strideB, transB, c, dst, ldc, strideC, m, n, k, alpha, beta, batch,
                    abType, cType, ct, epi);
            if (r != null) return r;
        }
        if (epi != null) {
            throw new CudaException("cuBLASLt offers no algorithm for a " + m + "x" + n + "x" + k + " product with epilogue " + epi.code()
                    + "; run with -Dmixlab.cuda.noepilogue=true");
        }
        MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
        Runnable call = () -> check(Driver.call(gemm, handle, transB ? 1 : 0, transA ? 1 : 0, n, m, k, al, b, abType, ldb, strideB,
                a, abType, lda, strideA, be, dst, cType, ldc, strideC, batch, ct, GEMM_DEFAULT), "cublasGemmStridedBatchedEx");
        if (beta == 0 || c == dst) return call;
        // plain cuBLAS reads and writes one C: copy C to D first (only contiguous, unbatched C here)
        if (batch != 1 || ldc != n) throw new IllegalArgumentException("an out-of-place C needs a contiguous unbatched product");
        long bytes = (long) m * n * (cType == CUDA_R_16BF ? 2 : 4);
        return () -> {
            d.dtodAsync(dst, c, bytes, stream);
            call.run();
        };
    }
}
