package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import dev.mixlab.ir.Alibi;
import dev.mixlab.ir.AttnMask;
import dev.mixlab.ir.DropoutHash;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Causal (optionally sliding-window: keys i-window < j <= i; optionally chunked: keys of i's chunk only, see {@link AttnMask}; optionally logit-softcapped: s -> c·tanh(s/c); optionally ALiBi after the cap: −m_h·(i − j)) grouped-query attention on q[B,T,H,hd], k/v[B,T,KV,hd], forward and backward, with the
 * optional dropout on probabilities at index ((b·H+h)·T+i)·T+j as the reference. The backward
 * recomputes the probabilities.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    /** Shapes and attributes of one call. */
    record Dims(int b, int t, int h, int kvh, int hd, float scale, double dropout, int salt, int seed, int window, double softcap,
                boolean alibi, int chunk) {
        int group() {
            return h / kvh;
        }

        /** ALiBi slope of each query head (null without ALiBi). */
        float[] slopes() {
            if (!alibi) return null;
            float[] m = new float[h];
            for (int i = 0; i < h; i++) m[i] = (float) Alibi.slope(i, h);
            return m;
        }

        /** First key query i attends ({@link AttnMask}: window and chunk). */
        int first(int i) {
            return AttnMask.first(i, window, chunk);
        }
    }

    /**
     * Transposes the keys (or values) of kv head kh in batch b, rows 0..t-1 at kBase + j·kStride,
     * into kt[c·t + j], so the scores of one query against L keys are hd broadcast-FMAs with no
     * horizontal sums.
     */
    private static void transpose(float[] f, int kBase, int kStride, int t, int hd, float[] kt, int ktOff) {
        for (int j = 0; j < t; j++) {
            int ko = kBase + j * kStride;
            for (int c = 0; c < hd; c++) kt[ktOff + c * t + j] = f[ko + c];
        }
    }

    /** p[j] = (a·kt[:,j])·scale for j in 0..n-1, with a (hd values) at f[ao]. */
    private static void scores(float[] f, int ao, float[] kt, int ktOff, int t, int n, int hd, float scale, float[] p) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector acc = FloatVector.zero(S);
            for (int c = 0; c < hd; c++) {
                acc = FloatVector.fromArray(S, kt, ktOff + c * t + j, m).fma(FloatVector.broadcast(S, f[ao + c]), acc);
            }
            acc.mul(scale).intoArray(p, j, m);
        }
    }

    /**
     * Logit softcap in place: p[j] = c·tanh(p[j]/c) for j in 0..n-1 (c > 0); with {@code dcap} non-null
     * also dcap[j] = 1 − tanh²(s/c), the derivative of the capped score by the scaled one.
     */
    private static void cap(float[] p, int n, double c, float[] dcap) {
        for (int j = 0; j < n; j++) {
            double th = Math.tanh(p[j] / c);
            p[j] = (float) (c * th);
            if (dcap != null) dcap[j] = (float) (1 - th * th);
        }
    }

    /** ALiBi in place, after any softcap: p[j] −= m·(i − (lo + j)) for j in 0..n-1 (p[j] holds key lo + j). */
    static void alibi(float[] p, int n, float m, int i, int lo) {
        for (int j = 0; j < n; j++) p[j] -= m * (i - lo - j);
    }

    /** In place p[j] = e^{p[j]-max} for j in 0..n-1; returns the sum of the exponentials. */
    private static float expShifted(float[] p, int n) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            mx = mx.max(FloatVector.fromArray(S, p, j, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);   // exact in any order
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector e = Simd.exp(FloatVector.fromArray(S, p, j, m).sub(max));
            e.intoArray(p, j, m);
            sum = sum.add(e, m);
        }
        return Simd.hsum(sum);
    }

    /** out_i[c-block] = Σ_j w[j]·v_j[c-block], accumulated in registers per block of channels. */
    private static void weightedSum(float[] f, float[] w, int n, int vBase, int vStride, int hd, int outOff) {
        for (int c = 0; c < hd; c += L) {
            VectorMask<Float> m = S.indexInRange(c, hd);
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                acc = FloatVector.fromArray(S, f, vBase + j * vStride + c, m).fma(FloatVector.broadcast(S, w[j]), acc);
            }
            acc.intoArray(f, outOff + c, m);
        }
    }

    /** Parallel over query rows (b, h, i): each output row is written by one chunk. */
    static void forward(float[] f, int qOff, int kOff, int vOff, int outOff, Dims d) {
        int t = d.t(), h = d.h(), kvh = d.kvh(), hd = d.hd(), group = d.group();
        int prefix = ElementwiseKernels.hashPrefix(d.seed(), d.salt());
        int thr = DropoutHash.threshold(d.dropout());
        float keepScale = d.dropout() > 0 ? (float) (1 / (1 - d.dropout())) : 1f;
        // keys transposed once per (b, kv head), in parallel, before the row loop
        float[] kt = Scratch.floats(Scratch.PARTIALS, d.b() * kvh * hd * t);
        Chunks.forRange(d.b() * kvh, 1, (p0, p1) -> {
            for (int pair = p0; pair < p1; pair++) {
                int b = pair / kvh, kh = pair % kvh;
                transpose(f, kOff + (b * t * kvh + kh) * hd, kvh * hd, t, hd, kt, pair * hd * t);
            }
        });
        float[] slopes = d.slopes();
        Chunks.forRange(d.b() * h * t, Math.max(1, t / 4), (r0, r1) -> {
            float[] p = Scratch.floats(Scratch.A, t);
            for (int r = r0; r < r1; r++) {
                int i = r % t, bh = r / t, head = bh % h, b = bh / h, kh = head / group;
                int qo = qOff + ((b * t + i) * h + head) * hd;
                // keys lo..i; p[j - lo] holds key j
                int lo = d.first(i), n = i + 1 - lo;
                int vBase = vOff + ((b * t + lo) * kvh + kh) * hd;
                scores(f, qo, kt, (b * kvh + kh) * hd * t + lo, t, n, hd, d.scale(), p);
                if (d.softcap() > 0) cap(p, n, d.softcap(), null);
                if (slopes != null) alibi(p, n, slopes[head], i, lo);
                float inv = 1f / expShifted(p, n);
                if (d.dropout() > 0) {
                    long rowIdx = (long) r * t + lo;   // ((b·H+h)·T+i)·T + lo
                    float ks = inv * keepScale;
                    for (int j = 0; j < n; j++) p[j] = ElementwiseKernels.keep(prefix, rowIdx + j, thr) ? p[j] * ks : 0f;
                } else {
                    scaleInPlace(p, n, inv);
                }
                weightedSum(f, p, n, vBase, kvh * hd, hd, outOff + ((b * t + i) * h + head) * hd);
            }
        });
    }

    private static void scaleInPlace(float[] p, int n, float s) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector.fromArray(S, p, j, m).mul(s).intoArray(p, j, m);
        }
    }

    /**
     * Parallel over (b, kv head): that chunk owns dk and dv of the kv head and dq of the query
     * heads of its group, so every accumulation stays inside one chunk, in a fixed order.
     */
    static void backward(float[] f, int qOff, int kOff, int vOff, int dyOff, int dqOff, int dkOff, int dvOff, Dims d) {
        int t = d.t(), h = d.h(), kvh = d.kvh(), hd = d.hd(), group = d.group();
        int prefix = ElementwiseKernels.hashPrefix(d.seed(), d.salt());
        int thr = DropoutHash.threshold(d.dropout());
        float keepScale = d.dropout() > 0 ? (float) (1 / (1 - d.dropout())) : 1f;
        float scale = d.scale();
        double softcap = d.softcap();
        float[] slopes = d.slopes();
        int kStride = kvh * hd;
        Chunks.forRange(d.b() * kvh, 1, (p0, p1) -> {
            float[] p = Scratch.floats(Scratch.A, t), dp = Scratch.floats(Scratch.B, t), ds = Scratch.floats(Scratch.C, t);
            float[] kt = Scratch.floats(Scratch.D, hd * t), vt = Scratch.floats(Scratch.E, hd * t);
            for (int pair = p0; pair < p1; pair++) {
                int b = pair / kvh, kh = pair % kvh;
                int kBase = kOff + (b * t * kvh + kh) * hd, vBase = vOff + (b * t * kvh + kh) * hd;
                int dkBase = dkOff + (b * t * kvh + kh) * hd, dvBase = dvOff + (b * t * kvh + kh) * hd;
                transpose(f, kBase, kStride, t, hd, kt, 0);
                transpose(f, vBase, kStride, t, hd, vt, 0);
                for (int j = 0; j < t; j++) {
                    java.util.Arrays.fill(f, dkBase + j * kStride, dkBase + j * kStride + hd, 0f);
                    java.util.Arrays.fill(f, dvBase + j * kStride, dvBase + j * kStride + hd, 0f);
                }
                for (int head = kh * group; head < (kh + 1) * group; head++) {
                    for (int i = 0; i < t; i++) {
                        int rowQ = ((b * t + i) * h + head) * hd;
                        int qo = qOff + rowQ, go = dyOff + rowQ;
                        // keys lo..i; p[j], dp[j], ds[j] hold key lo + j
                        int lo = d.first(i), n = i + 1 - lo;
                        scores(f, qo, kt, lo, t, n, hd, scale, p);
                        if (softcap > 0) cap(p, n, softcap, ds);   // ds[j] holds the cap's derivative until overwritten below
                        if (slopes != null) alibi(p, n, slopes[head], i, lo);   // no gradient
                        scaleInPlace(p, n, 1f / expShifted(p, n));
                        scores(f, go, vt, lo, t, n, hd, 1f, dp);   // dy_i · v_j
                        long rowIdx = (((long) b * h + head) * t + i) * t + lo;
                        double dotAcc = 0;   // T terms: sum in double
                        for (int j = 0; j < n; j++) {
                            float m = d.dropout() > 0 ? (ElementwiseKernels.keep(prefix, rowIdx + j, thr) ? keepScale : 0f) : 1f;
                            float pm = p[j] * m;
                            dp[j] *= m;
                            dotAcc += (double) p[j] * dp[j];
                            if (pm != 0f) Simd.axpy(pm, f, go, f, dvBase + (lo + j) * kStride, hd);
                        }
                        float dot = (float) dotAcc;
                        for (int j = 0; j < n; j++) {
                            float sj = p[j] * (dp[j] - dot) * (softcap > 0 ? ds[j] : 1f) * scale;
                            ds[j] = sj;
                            Simd.axpy(sj, f, qo, f, dkBase + (lo + j) * kStride, hd);
                        }
                        weightedSum(f, ds, n, kBase + lo * kStride, kStride, hd, dqOff + rowQ);
                    }
                }
            }
        });
    }
}
