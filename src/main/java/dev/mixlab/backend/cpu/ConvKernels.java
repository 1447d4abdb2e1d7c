package dev.mixlab.backend.cpu;

/**
 * The depthwise causal convolution of the recurrent mixers ({@link dev.mixlab.ir.CausalConv}):
 * {@code y[b,t,c] = Σ_j w[c,j]·x[b,t-K+1+j,c]}, earlier rows from the decode state or zero.
 */
final class ConvKernels {
    private ConvKernels() {}

    private static final int ROWS = 64;

    /**
     * Forward over x[B,T,C]; with {@code stOff >= 0} rows before 0 come from the state [B,K-1,C]
     * (unless pos is 0) and the state is then advanced in place.
     */
    static void forward(float[] f, int xOff, int wOff, int yOff, int stOff, int pos, int bs, int t, int c, int k) {
        boolean fromState = stOff >= 0 && pos > 0;
        Chunks.forRange(bs * t, ROWS, (from, to) -> {
            for (int row = from; row < to; row++) {
                int b = row / t, ti = row % t;
                for (int ch = 0; ch < c; ch++) {
                    float acc = 0;
                    for (int j = 0; j < k; j++) {
                        int src = ti - k + 1 + j;
                        float xv = src >= 0 ? f[xOff + (b * t + src) * c + ch]
                                : fromState ? f[stOff + (b * (k - 1) + k - 1 + src) * c + ch] : 0f;
                        acc += f[wOff + ch * k + j] * xv;
                    }
                    f[yOff + row * c + ch] = acc;
                }
            }
        });
        if (stOff < 0) return;
        // state row r becomes input row t-(K-1)+r; rows read from the old state (index t+r > r) are
        // still unwritten when filled in increasing r
        for (int b = 0; b < bs; b++) {
            for (int r = 0; r < k - 1; r++) {
                int src = t - (k - 1) + r;
                for (int ch = 0; ch < c; ch++) {
                    float v = src >= 0 ? f[xOff + (b * t + src) * c + ch] : fromState ? f[stOff + (b * (k - 1) + t + r) * c + ch] : 0f;
                    f[stOff + (b * (k - 1) + r) * c + ch] = v;
                }
            }
        }
    }

    /** dx by rows, dw by channels (each a float64 sum over all rows in order). */
    static void backward(float[] f, int xOff, int wOff, int dyOff, int dxOff, int dwOff, int bs, int t, int c, int k) {
        Chunks.forRange(bs * t, ROWS, (from, to) -> {
            for (int row = from; row < to; row++) {
                int b = row / t, ti = row % t;
                for (int ch = 0; ch < c; ch++) {
                    float acc = 0;
                    for (int j = 0; j < k; j++) {
                        int dst = ti + k - 1 - j;
                        if (dst < t) acc += f[wOff + ch * k + j] * f[dyOff + (b * t + dst) * c + ch];
                    }
                    f[dxOff + row * c + ch] = acc;
                }
            }
        });
        Chunks.forRange(c, 8, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                for (int j = 0; j < k; j++) {
                    double acc = 0;
                    for (int b = 0; b < bs; b++) {
                        for (int ti = Math.max(0, k - 1 - j); ti < t; ti++) {
                            acc += (double) f[dyOff + (b * t + ti) * c + ch] * f[xOff + (b * t + ti - k + 1 + j) * c + ch];
                        }
                    }
                    f[dwOff + ch * k + j] = (float) acc;
                }
            }
        });
    }
}
