package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.Alibi;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.AttnMask;
import dev.mixlab.ir.AttentionGrad;
import dev.mixlab.ir.DropoutHash;
import dev.mixlab.ir.Shape;

/**
 * Causal (optionally sliding-window and/or chunked, see {@link AttnMask}; optionally logit-softcapped, optionally ALiBi-biased after the cap) grouped-query attention in float64. Dropout on the probabilities uses the element index
 * {@code ((b·H + h)·T + i)·T + j} in {@link DropoutHash}: the same mask on every backend.
 */
final class Attn {
    private Attn() {}

    static double[] forward(Attention a, Tensor qt, double[] k, double[] v, int seed) {
        Shape s = qt.shape();
        int bsz = s.dim(0), t = s.dim(1), h = s.dim(2), hd = s.dim(3), kvh = a.kvHeads(), group = h / kvh;
        double[] q = qt.f(), out = new double[q.length], p = new double[t];
        int thr = DropoutHash.threshold(a.dropout());
        double keepScale = a.dropout() > 0 ? 1 / (1 - a.dropout()) : 1;
        for (int b = 0; b < bsz; b++) {
            for (int head = 0; head < h; head++) {
                int kh = head / group;
                for (int i = 0; i < t; i++) {
                    int lo = AttnMask.first(i, a.window(), a.chunk());
                    probs(q, k, p, null, b, head, kh, i, lo, t, h, kvh, hd, a.scale(), a.softcap(), a.alibi());
                    int qo = ((b * t + i) * h + head) * hd;
                    for (int j = lo; j <= i; j++) {
                        double pj = p[j];
                        if (a.dropout() > 0) {
                            long idx = (((long) b * h + head) * t + i) * t + j;
                            pj = DropoutHash.keep(seed, a.salt(), idx, thr) ? pj * keepScale : 0;
                        }
                        int vo = ((b * t + j) * kvh + kh) * hd;
                        for (int c = 0; c < hd; c++) out[qo + c] += pj * v[vo + c];
                    }
                }
            }
        }
        return out;
    }

    /** Queries at positions pos..pos+S-1 against cache rows 0..pos+s (see CachedAttention). */
    static double[] cached(dev.mixlab.ir.CachedAttention a, Tensor qt, Tensor kt, double[] v, int pos) {
        Shape s = qt.shape(), c = kt.shape();
        int bsz = s.dim(0), sn = s.dim(1), h = s.dim(2), hd = s.dim(3), kvh = a.kvHeads(), group = h / kvh, tmax = c.dim(1);
        double[] q = qt.f(), k = kt.f(), out = new double[q.length], p = new double[tmax];
        for (int b = 0; b < bsz; b++) {
            for (int head = 0; head < h; head++) {
                int kh = head / group;
                for (int i = 0; i < sn; i++) {
                    int last = pos + i, lo = AttnMask.first(last, a.window(), a.chunk()), qo = ((b * sn + i) * h + head) * hd;
                    if (last >= tmax) throw new IllegalArgumentException("position " + last + " beyond the cache of " + tmax);
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = lo; j <= last; j++) {
                        int ko = ((b * tmax + j) * kvh + kh) * hd;
                        double sc = 0;
                        for (int d = 0; d < hd; d++) sc += q[qo + d] * k[ko + d];
                        p[j] = cap(sc * a.scale(), a.softcap()) + Alibi.bias(a.alibi(), head, h, last, j);
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = lo; j <= last; j++) sum += p[j] = Math.exp(p[j] - max);
                    for (int j = lo; j <= last; j++) {
                        int vo = ((b * tmax + j) * kvh + kh) * hd;
                        for (int d = 0; d < hd; d++) out[qo + d] += p[j] / sum * v[vo + d];
                    }
                }
            }
        }
        return out;
    }

    /** @return the first key query position i attends without chunks: 0, or i-window+1 with a sliding window */
    static int first(int i, int window) {
        return AttnMask.first(i, window, 0);
    }

    /** @return s, or c·tanh(s/c) with a softcap c > 0 */
    static double cap(double s, double c) {
        return c > 0 ? c * Math.tanh(s / c) : s;
    }

    /**
     * Softmax of the scaled (and softcapped, then ALiBi-biased) scores of query row i over keys lo..i into p[lo..i]; with
     * {@code dcap} non-null, d(capped)/d(scaled score) = 1 − tanh²(s/c) (1 without a cap) into dcap[lo..i].
     */
    static void probs(double[] q, double[] k, double[] p, double[] dcap, int b, int head, int kh, int i, int lo, int t, int h, int kvh,
                      int hd, double scale, double softcap, boolean alibi) {
        int qo = ((b * t + i) * h + head) * hd;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = lo; j <= i; j++) {
            int ko = ((b * t + j) * kvh + kh) * hd;
            double sc = 0;
            for (int c = 0; c < hd; c++) sc += q[qo + c] * k[ko + c];
            p[j] = cap(sc * scale, softcap);
            if (dcap != null) dcap[j] = softcap > 0 ? 1 - (p[j] / softcap) * (p[j] / softcap) : 1;
            p[j] += Alibi.bias(alibi, head, h, i, j);   // after the softcap; no gradient
            max = Math.max(max, p[j]);
        }
        double sum = 0;
        for (int j = lo; j <= i; j++) {
            p[j] = Math.exp(p[j] - max);
            sum += p[j];
        }
        for (int j = lo; j <= i; j++) p[j] /= sum;
    }

    static Tensor[] backward(AttentionGrad a, Tensor qt, Tensor kt, Tensor vt, double[] dy, int seed) {
        Shape s = qt.shape();
        int bsz = s.dim(0), t = s.dim(1), h = s.dim(2), hd = s.dim(3), kvh = a.kvHeads(), group = h / kvh;
        double[] q = qt.f(), k = kt.f(), v = vt.f();
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        double[] p = new double[t], dp = new double[t], dcap = new double[t];
        int thr = DropoutHash.threshold(a.dropout());
        double keepScale = a.dropout() > 0 ? 1 / (1 - a.dropout()) : 1;
        for (int b = 0; b < bsz; b++) {
            for (int head = 0; head < h; head++) {
                int kh = head / group;
                for (int i = 0; i < t; i++) {
                    int lo = AttnMask.first(i, a.window(), a.chunk());
                    probs(q, k, p, dcap, b, head, kh, i, lo, t, h, kvh, hd, a.scale(), a.softcap(), a.alibi());
                    int qo = ((b * t + i) * h + head) * hd;
                    double dot = 0;
                    for (int j = lo; j <= i; j++) {
                        int vo = ((b * t + j) * kvh + kh) * hd;
                        double m = 1;
                        if (a.dropout() > 0) {
                            long idx = (((long) b * h + head) * t + i) * t + j;
                            m = DropoutHash.keep(seed, a.salt(), idx, thr) ? keepScale : 0;
                        }
                        double g = 0;
                        for (int c = 0; c < hd; c++) {
                            g += dy[qo + c] * v[vo + c];
                            dv[vo + c] += p[j] * m * dy[qo + c];
                        }
                        dp[j] = g * m;
                        dot += p[j] * dp[j];
                    }
                    for (int j = lo; j <= i; j++) {
                        double ds = p[j] * (dp[j] - dot) * dcap[j] * a.scale();
                        int ko = ((b * t + j) * kvh + kh) * hd;
                        for (int c = 0; c < hd; c++) {
                            dq[qo + c] += ds * k[ko + c];
                            dk[ko + c] += ds * q[qo + c];
                        }
                    }
                }
            }
        }
        return new Tensor[] {Tensor.of(s, dq), Tensor.of(kt.shape(), dk), Tensor.of(vt.shape(), dv)};
    }
}
