package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import dev.mixlab.ir.DropoutHash;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Causal grouped-query attention on q[B,T,H,hd], k/v[B,T,KV,hd], forward and backward, with the
 * optional dropout on probabilities at index ((b·H+h)·T+i)·T+j as the reference. The backward
 * recomputes the probabilities.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    /** Shapes and attributes of one call. */
    record Dims(int b, int t, int h, int kvh, int hd, float scale, double dropout, int salt, int seed) {
        int group() {
            return h / kvh;
        }
    }

    /**
     * Scaled scores of query row (q at qo) against keys 0..i (key j at kBase + j·kStride), then
     * in place e^{s-max}; returns the sum of the exponentials.
     */
    private static float expScores(float[] f, int qo, int kBase, int kStride, int i, int hd, float scale, float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
            float s = Simd.dot(f, qo, f, kBase + j * kStride, hd) * scale;
            p[j] = s;
            max = Math.max(max, s);
        }
        int n = i + 1;
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
        Chunks.forRange(d.b() * h * t, Math.max(1, t / 4), (r0, r1) -> {
            float[] p = Scratch.floats(Scratch.A, t);
            for (int r = r0; r < r1; r++) {
                int i = r % t, bh = r / t, head = bh % h, b = bh / h, kh = head / group;
                int qo = qOff + ((b * t + i) * h + head) * hd;
                int kBase = kOff + (b * t * kvh + kh) * hd, vBase = vOff + (b * t * kvh + kh) * hd;
                float inv = 1f / expScores(f, qo, kBase, kvh * hd, i, hd, d.scale(), p);
                if (d.dropout() > 0) {
                    long rowIdx = (long) r * t;   // ((b·H+h)·T+i)·T
                    float ks = inv * keepScale;
                    for (int j = 0; j <= i; j++) p[j] = ElementwiseKernels.keep(prefix, rowIdx + j, thr) ? p[j] * ks : 0f;
                } else {
                    scaleInPlace(p, i + 1, inv);
                }
                weightedSum(f, p, i + 1, vBase, kvh * hd, hd, outOff + ((b * t + i) * h + head) * hd);
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
        int kStride = kvh * hd;
        Chunks.forRange(d.b() * kvh, 1, (p0, p1) -> {
            float[] p = Scratch.floats(Scratch.A, t), dp = Scratch.floats(Scratch.B, t), ds = Scratch.floats(Scratch.C, t);
            for (int pair = p0; pair < p1; pair++) {
                int b = pair / kvh, kh = pair % kvh;
                int kBase = kOff + (b * t * kvh + kh) * hd, vBase = vOff + (b * t * kvh + kh) * hd;
                int dkBase = dkOff + (b * t * kvh + kh) * hd, dvBase = dvOff + (b * t * kvh + kh) * hd;
                for (int j = 0; j < t; j++) {
                    java.util.Arrays.fill(f, dkBase + j * kStride, dkBase + j * kStride + hd, 0f);
                    java.util.Arrays.fill(f, dvBase + j * kStride, dvBase + j * kStride + hd, 0f);
                }
                for (int head = kh * group; head < (kh + 1) * group; head++) {
                    for (int i = 0; i < t; i++) {
                        int rowQ = ((b * t + i) * h + head) * hd;
                        int qo = qOff + rowQ, go = dyOff + rowQ;
                        scaleInPlace(p, i + 1, 1f / expScores(f, qo, kBase, kStride, i, hd, scale, p));
                        long rowIdx = (((long) b * h + head) * t + i) * t;
                        double dotAcc = 0;   // T terms: sum in double
                        for (int j = 0; j <= i; j++) {
                            float m = d.dropout() > 0 ? (ElementwiseKernels.keep(prefix, rowIdx + j, thr) ? keepScale : 0f) : 1f;
                            float pm = p[j] * m;
                            dp[j] = Simd.dot(f, go, f, vBase + j * kStride, hd) * m;
                            dotAcc += (double) p[j] * dp[j];
                            if (pm != 0f) Simd.axpy(pm, f, go, f, dvBase + j * kStride, hd);
                        }
                        float dot = (float) dotAcc;
                        for (int j = 0; j <= i; j++) {
                            float sj = p[j] * (dp[j] - dot) * scale;
                            ds[j] = sj;
                            Simd.axpy(sj, f, qo, f, dkBase + j * kStride, hd);
                        }
                        weightedSum(f, ds, i + 1, kBase, kStride, hd, dqOff + rowQ);
                    }
                }
            }
        });
    }
}
