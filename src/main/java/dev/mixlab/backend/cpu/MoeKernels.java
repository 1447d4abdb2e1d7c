package dev.mixlab.backend.cpu;

import java.util.Arrays;

/**
 * Mixture-of-experts kernels (see the {@code dev.mixlab.ir.Moe*} ops): routing with a sequential
 * token-order pass for slots (so capacity keeps the same tokens as the reference), gates in double,
 * dispatch/combine by slot, and grouped matmuls as one packed SGEMM per expert over only its rows.
 */
final class MoeKernels {
    private MoeKernels() {}

    /**
     * Top-k choice per token (parallel over tokens, scores in double as the reference), then one
     * token-order pass that fills expert groups up to the capacity.
     */
    static void route(float[] f, int[] ints, int lOff, int biasOff, int slotOff, int selOff, int offOff, int loadOff,
                      int droppedOff, int n, int e, int k, boolean sigmoid, int capacity) {
        Chunks.forRange(n, Math.max(1, 2048 / Math.max(1, e)), (t0, t1) -> {
            double[] score = Scratch.doubles(Scratch.A, e);
            for (int t = t0; t < t1; t++) {
                affinity(f, lOff + t * e, e, sigmoid, score);
                if (biasOff >= 0) for (int j = 0; j < e; j++) score[j] += f[biasOff + j];
                int o = selOff + t * k;
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int x = 0; x < e; x++) {
                        if (taken(ints, o, j, x)) continue;
                        if (best < 0 || score[x] > score[best]) best = x;
                    }
                    ints[o + j] = best;
                }
            }
        });
        int[] count = Scratch.ints(Scratch.PARTIALS, 2 * e);   // [0,e): chose it; [e,2e): filled so far
        Arrays.fill(count, 0, 2 * e, 0);
        for (int a = 0; a < n * k; a++) count[ints[selOff + a]]++;
        ints[offOff] = 0;
        for (int j = 0; j < e; j++) {
            f[loadOff + j] = count[j];
            int kept = capacity > 0 ? Math.min(count[j], capacity) : count[j];
            ints[offOff + j + 1] = ints[offOff + j] + kept;
        }
        int dropped = 0;
        for (int a = 0; a < n * k; a++) {
            int x = ints[selOff + a];
            int kept = ints[offOff + x + 1] - ints[offOff + x];
            if (count[e + x] < kept) ints[slotOff + a] = ints[offOff + x] + count[e + x]++;
            else { ints[slotOff + a] = -1; dropped++; }
        }
        f[droppedOff] = dropped;
    }

    private static boolean taken(int[] ints, int o, int j, int x) {
        for (int i = 0; i < j; i++) if (ints[o + i] == x) return true;
        return false;
    }

    private static void affinity(float[] f, int off, int e, boolean sigmoid, double[] out) {
        if (sigmoid) {
            for (int j = 0; j < e; j++) out[j] = 1 / (1 + Math.exp(-(double) f[off + j]));
            return;
        }
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (int j = 0; j < e; j++) m = Math.max(m, f[off + j]);
        for (int j = 0; j < e; j++) s += out[j] = Math.exp(f[off + j] - m);
        for (int j = 0; j < e; j++) out[j] /= s;
    }

    /** Selected affinities of token t (exp(l − max) or sigmoid) into a[0..k). */
    private static double selected(float[] f, int[] ints, int lOff, int selOff, int t, int e, int k, boolean sigmoid, double[] a) {
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (int j = 0; j < k; j++) m = Math.max(m, f[lOff + t * e + (selOff < 0 ? j : ints[selOff + t * k + j])]);
        for (int j = 0; j < k; j++) {
            double x = f[lOff + t * e + (selOff < 0 ? j : ints[selOff + t * k + j])];
            s += a[j] = sigmoid ? 1 / (1 + Math.exp(-x)) : Math.exp(x - m);
        }
        return s;
    }

    /** gates[t,j] = a_j / Σa over the selection (every expert when selOff < 0). */
    static void gate(float[] f, int[] ints, int lOff, int selOff, int outOff, int n, int e, int k, boolean sigmoid) {
        Chunks.forRange(n, Math.max(1, 2048 / Math.max(1, e)), (t0, t1) -> {
            double[] a = Scratch.doubles(Scratch.A, k);
            for (int t = t0; t < t1; t++) {
                double s = selected(f, ints, lOff, selOff, t, e, k, sigmoid, a);
                for (int j = 0; j < k; j++) f[outOff + t * k + j] = (float) (a[j] / s);
            }
        });
    }

    static void gateGrad(float[] f, int[] ints, int lOff, int selOff, int dgOff, int outOff, int n, int e, int k,
                         boolean sigmoid) {
        Chunks.forRange(n, Math.max(1, 2048 / Math.max(1, e)), (t0, t1) -> {
            double[] a = Scratch.doubles(Scratch.A, k);
            for (int t = t0; t < t1; t++) {
                double s = selected(f, ints, lOff, selOff, t, e, k, sigmoid, a), dot = 0;
                for (int j = 0; j < k; j++) dot += f[dgOff + t * k + j] * a[j] / s;
                Arrays.fill(f, outOff + t * e, outOff + (t + 1) * e, 0f);
                for (int j = 0; j < k; j++) {
                    double c = f[dgOff + t * k + j] - dot;
                    int x = selOff < 0 ? j : ints[selOff + t * k + j];
                    f[outOff + t * e + x] = (float) (sigmoid ? c / s * a[j] * (1 - a[j]) : a[j] / s * c);
                }
            }
        });
    }

    /** xg[slot[t,j]] = gate·x[t]; rows no slot points to are zero. */
    static void dispatch(float[] f, int[] ints, int xOff, int slotOff, int gOff, int outOff, int n, int k, int d, int rows) {
        Arrays.fill(f, outOff, outOff + rows * d, 0f);
        Chunks.forRange(n, Math.max(1, 4096 / Math.max(1, k * d)), (t0, t1) -> {
            for (int a = t0 * k; a < t1 * k; a++) {
                int r = ints[slotOff + a];
                if (r < 0) continue;
                int src = xOff + (a / k) * d, dst = outOff + r * d;
                if (gOff < 0) System.arraycopy(f, src, f, dst, d);
                else {
                    float w = f[gOff + a];
                    for (int c = 0; c < d; c++) f[dst + c] = w * f[src + c];
                }
            }
        });
    }

    /** y[t] = Σ_j gate·yg[slot[t,j]] in j order. */
    static void combine(float[] f, int[] ints, int ygOff, int slotOff, int gOff, int outOff, int n, int k, int d) {
        Chunks.forRange(n, Math.max(1, 4096 / Math.max(1, k * d)), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int y = outOff + t * d;
                Arrays.fill(f, y, y + d, 0f);
                for (int j = 0; j < k; j++) {
                    int a = t * k + j, r = ints[slotOff + a];
                    if (r < 0) continue;
                    float w = gOff < 0 ? 1f : f[gOff + a];
                    int src = ygOff + r * d;
                    for (int c = 0; c < d; c++) f[y + c] += w * f[src + c];
                }
            }
        });
    }

    static void rowDot(float[] f, int[] ints, int aOff, int gOff, int slotOff, int outOff, int n, int k, int d) {
        Chunks.forRange(n * k, Math.max(1, 4096 / Math.max(1, d)), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                int r = ints[slotOff + a];
                double s = 0;
                if (r >= 0) {
                    int x = aOff + (a / k) * d, g = gOff + r * d;
                    for (int c = 0; c < d; c++) s += (double) f[x + c] * f[g + c];
                }
                f[outOff + a] = (float) s;
            }
        });
    }

    /** One SGEMM per expert over rows offsets[e]..offsets[e+1]; the unused tail is zeroed. */
    static void groupedMatmul(float[] f, int[] ints, int xOff, int wOff, int offOff, int yOff, int e, int rows, int in,
                              int out, boolean transB) {
        for (int g = 0; g < e; g++) {
            int r0 = ints[offOff + g], m = ints[offOff + g + 1] - r0;
            MatMul.matmul(f, xOff + r0 * in, false, f, wOff + g * in * out, transB, f, yOff + r0 * out, m, out, in, false);
        }
        int used = ints[offOff + e];
        Arrays.fill(f, yOff + used * out, yOff + rows * out, 0f);
    }

    /** dW_e = dy_eᵀ·x_e ([out,in], transB) or x_eᵀ·dy_e ([in,out]); zero for an expert without rows. */
    static void groupedWGrad(float[] f, int[] ints, int xOff, int dyOff, int offOff, int outOff, int e, int in, int out,
                             boolean transB) {
        for (int g = 0; g < e; g++) {
            int r0 = ints[offOff + g], m = ints[offOff + g + 1] - r0, w = outOff + g * in * out;
            if (transB) MatMul.matmul(f, dyOff + r0 * out, true, f, xOff + r0 * in, false, f, w, out, in, m, false);
            else MatMul.matmul(f, xOff + r0 * in, true, f, dyOff + r0 * out, false, f, w, in, out, m, false);
        }
    }

    static void biasBalance(float[] f, int biasOff, int loadOff, int e, double rate) {
        double mean = 0;
        for (int j = 0; j < e; j++) mean += f[loadOff + j];
        mean /= e;
        for (int j = 0; j < e; j++) f[biasOff + j] += (float) (rate * Math.signum(mean - f[loadOff + j]));
    }
}
