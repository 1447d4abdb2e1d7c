package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.*;

/** The mixture-of-experts ops in float64: routing, gates, dispatch/combine, grouped matmuls, bias balancing. */
final class Moe {
    private Moe() {}

    /** Outputs slot, sel, offsets, load, dropped (see {@link MoeRoute}). */
    static Tensor[] route(MoeRoute r, double[] logits, double[] bias, int n) {
        int e = r.experts(), k = r.topK();
        int[] sel = new int[n * k], slot = new int[n * k], offsets = new int[e + 1];
        double[] score = new double[e], load = new double[e];
        for (int t = 0; t < n; t++) {
            affinity(logits, t * e, e, r.sigmoid(), score);
            if (bias != null) for (int j = 0; j < e; j++) score[j] += bias[j];
            topK(score, k, sel, t * k);
            for (int j = 0; j < k; j++) load[sel[t * k + j]]++;
        }
        // kept per expert: the first `capacity` tokens (token order) that chose it
        int[] kept = new int[e];
        for (int j = 0; j < e; j++) kept[j] = r.capacity() > 0 ? Math.min((int) load[j], r.capacity()) : (int) load[j];
        for (int j = 0; j < e; j++) offsets[j + 1] = offsets[j] + kept[j];
        int[] fill = new int[e];
        int dropped = 0;
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < k; j++) {
                int x = sel[t * k + j];
                if (fill[x] < kept[x]) slot[t * k + j] = offsets[x] + fill[x]++;
                else { slot[t * k + j] = -1; dropped++; }
            }
        }
        Shape nk = Shape.of(n, k);
        return new Tensor[] {Tensor.ofInts(nk, slot), Tensor.ofInts(nk, sel), Tensor.ofInts(Shape.of(e + 1), offsets),
                Tensor.of(Shape.of(e), load), Tensor.of(Shape.SCALAR, new double[] {dropped})};
    }

    /** Softmax (or sigmoid) of one row of logits into out. */
    static void affinity(double[] l, int off, int e, boolean sigmoid, double[] out) {
        if (sigmoid) {
            for (int j = 0; j < e; j++) out[j] = 1 / (1 + Math.exp(-l[off + j]));
            return;
        }
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (int j = 0; j < e; j++) m = Math.max(m, l[off + j]);
        for (int j = 0; j < e; j++) s += out[j] = Math.exp(l[off + j] - m);
        for (int j = 0; j < e; j++) out[j] /= s;
    }

    /** The indices of the k largest scores, descending, ties to the lower index. */
    static void topK(double[] score, int k, int[] sel, int off) {
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int x = 0; x < score.length; x++) {
                boolean taken = false;
                for (int i = 0; i < j; i++) taken |= sel[off + i] == x;
                if (!taken && (best < 0 || score[x] > score[best])) best = x;
            }
            sel[off + j] = best;
        }
    }

    /** Gates [N,K] (or [N,E] without sel): selected affinities normalised per token. */
    static double[] gate(MoeGate g, double[] logits, int[] sel, int n) {
        int e = g.experts(), k = sel == null ? e : sel.length / n;
        double[] out = new double[n * k];
        for (int t = 0; t < n; t++) {
            double[] a = selected(logits, t, e, sel, k, g.sigmoid());
            double s = 0;
            for (double v : a) s += v;
            for (int j = 0; j < k; j++) out[t * k + j] = a[j] / s;
        }
        return out;
    }

    /** exp(l − max over the selection) or sigmoid(l) of the selected experts of token t. */
    private static double[] selected(double[] l, int t, int e, int[] sel, int k, boolean sigmoid) {
        double[] a = new double[k];
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) m = Math.max(m, l[t * e + idx(sel, t, j, k)]);
        for (int j = 0; j < k; j++) {
            double x = l[t * e + idx(sel, t, j, k)];
            a[j] = sigmoid ? 1 / (1 + Math.exp(-x)) : Math.exp(x - m);
        }
        return a;
    }

    private static int idx(int[] sel, int t, int j, int k) {
        return sel == null ? j : sel[t * k + j];
    }

    static double[] gateGrad(MoeGateGrad g, double[] logits, int[] sel, double[] dg, int n) {
        int e = g.experts(), k = sel == null ? e : sel.length / n;
        double[] dl = new double[n * e];
        for (int t = 0; t < n; t++) {
            double[] a = selected(logits, t, e, sel, k, g.sigmoid());
            double s = 0, dot = 0;
            for (double v : a) s += v;
            for (int j = 0; j < k; j++) dot += dg[t * k + j] * a[j] / s;
            for (int j = 0; j < k; j++) {
                double c = dg[t * k + j] - dot;
                dl[t * e + idx(sel, t, j, k)] += g.sigmoid() ? c / s * a[j] * (1 - a[j]) : a[j] / s * c;
            }
        }
        return dl;
    }

    static double[] dispatch(int rows, double[] x, int[] slot, double[] gates, int d) {
        double[] y = new double[rows * d];
        for (int a = 0; a < slot.length; a++) {
            if (slot[a] < 0) continue;
            int t = a / (slot.length / (x.length / d));
            double w = gates == null ? 1 : gates[a];
            for (int c = 0; c < d; c++) y[slot[a] * d + c] = w * x[t * d + c];
        }
        return y;
    }

    static double[] combine(double[] yg, int[] slot, double[] gates, int n, int d) {
        int k = slot.length / n;
        double[] y = new double[n * d];
        for (int a = 0; a < slot.length; a++) {
            if (slot[a] < 0) continue;
            double w = gates == null ? 1 : gates[a];
            for (int c = 0; c < d; c++) y[a / k * d + c] += w * yg[slot[a] * d + c];
        }
        return y;
    }

    static double[] rowDot(double[] a, double[] g, int[] slot, int n, int d) {
        int k = slot.length / n;
        double[] out = new double[slot.length];
        for (int i = 0; i < slot.length; i++) {
            if (slot[i] < 0) continue;
            double s = 0;
            for (int c = 0; c < d; c++) s += a[i / k * d + c] * g[slot[i] * d + c];
            out[i] = s;
        }
        return out;
    }

    /** y rows of expert e = x rows · W_eᵀ (transB, W_e [n,kk]) or x · W_e (W_e [kk,n]). */
    static double[] groupedMatmul(boolean transB, double[] x, double[] w, int[] offsets, int rows, int kk, int n) {
        double[] y = new double[rows * n];
        int e = offsets.length - 1;
        for (int g = 0; g < e; g++) {
            int base = g * n * kk;
            for (int r = offsets[g]; r < offsets[g + 1]; r++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int i = 0; i < kk; i++) s += x[r * kk + i] * w[base + (transB ? j * kk + i : i * n + j)];
                    y[r * n + j] = s;
                }
            }
        }
        return y;
    }

    static double[] groupedWGrad(boolean transB, double[] x, double[] dy, int[] offsets, int in, int out) {
        int e = offsets.length - 1;
        double[] dw = new double[e * in * out];
        for (int g = 0; g < e; g++) {
            for (int r = offsets[g]; r < offsets[g + 1]; r++) {
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        dw[g * in * out + (transB ? o * in + i : i * out + o)] += dy[r * out + o] * x[r * in + i];
                    }
                }
            }
        }
        return dw;
    }

    static void biasBalance(double rate, double[] bias, double[] load) {
        double mean = 0;
        for (double l : load) mean += l;
        mean /= load.length;
        for (int i = 0; i < bias.length; i++) bias[i] += rate * Math.signum(mean - load[i]);
    }
}
