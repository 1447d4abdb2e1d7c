package dev.mixlab.backend.cpu;

/**
 * TEMPORARY stand-in for the real blocked/vectorised MatMul being written on another branch;
 * same signature, plain loops. Drop this file when merging.
 */
public final class MatMul {
    private MatMul() {}

    /**
     * {@code C[M,N] (+)= op(A)·op(B)}. A element (i,k) is {@code a[aOff+i*K+k]}, or {@code a[aOff+k*M+i]}
     * when transA; B element (k,j) is {@code b[bOff+k*N+j]}, or {@code b[bOff+j*K+k]} when transB;
     * C element (i,j) is {@code c[cOff+i*N+j]}.
     */
    public static void matmul(float[] a, int aOff, boolean transA, float[] b, int bOff, boolean transB,
                              float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++) {
                    float av = transA ? a[aOff + k * M + i] : a[aOff + i * K + k];
                    float bv = transB ? b[bOff + j * K + k] : b[bOff + k * N + j];
                    s += av * bv;
                }
                c[cOff + i * N + j] = accumulate ? c[cOff + i * N + j] + s : s;
            }
        }
    }
}
