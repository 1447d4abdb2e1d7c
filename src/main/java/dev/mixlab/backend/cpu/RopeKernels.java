package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import dev.mixlab.ir.AttnMask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/** Rotary position embedding on x[B,T,H,hd] (see {@code dev.mixlab.ir.Rope}). */
final class RopeKernels {
    private RopeKernels() {}

    /** cos/sin of t·base^(-2j/dims), [T][dims/2] each, computed in double as the reference does. */
    private record Table(double base, int dims, int t, float[] cos, float[] sin) {}

    /** The last table built; rebuilding costs T·dims/2 trig calls, so reuse it while the key matches. */
    private static volatile Table cached;

    private static Table table(double base, int dims, int t) {
        Table tb = cached;
        if (tb != null && tb.base == base && tb.dims == dims && tb.t >= t) return tb;
        int half = dims / 2;
        float[] cos = new float[t * half], sin = new float[t * half];
        for (int pos = 0; pos < t; pos++) {
            for (int j = 0; j < half; j++) {
                double theta = pos * Math.pow(base, -2.0 * j / dims);
                cos[pos * half + j] = (float) Math.cos(theta);
                sin[pos * half + j] = (float) Math.sin(theta);
            }
        }
        tb = new Table(base, dims, t, cos, sin);
        cached = tb;
        return tb;
    }

    static void rope(float[] f, int xOff, int yOff, int b, int t, int h, int hd, double base, int dims,
                     boolean interleaved, boolean inverse) {
        rope(f, xOff, yOff, b, t, h, hd, base, dims, interleaved, inverse, 0, 0);
    }

    /**
     * As above with row t at position {@code posOffset + t} (incremental decoding), taken modulo
     * {@code period} when it is > 0 (positions restart every period rows).
     */
    static void rope(float[] f, int xOff, int yOff, int b, int t, int h, int hd, double base, int dims,
                     boolean interleaved, boolean inverse, int posOffset, int period) {
        Table tb = table(base, dims, period > 0 ? Math.min(period, t + posOffset) : t + posOffset);
        float[] cos = tb.cos, sin = tb.sin;
        int half = dims / 2;
        Chunks.forRange(b * t, Math.max(1, 4096 / Math.max(1, h * hd)), (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int pos = AttnMask.ropePosition(row % t + posOffset, period), to = pos * half;
                for (int head = 0; head < h; head++) {
                    int xo = xOff + (row * h + head) * hd, yo = yOff + (row * h + head) * hd;
                    if (interleaved) {
                        // pairs (2j, 2j+1) are adjacent: scalar, it would need lane shuffles
                        for (int j = 0; j < half; j++) {
                            float c = cos[to + j], s = inverse ? -sin[to + j] : sin[to + j];
                            float x1 = f[xo + 2 * j], x2 = f[xo + 2 * j + 1];
                            f[yo + 2 * j] = x1 * c - x2 * s;
                            f[yo + 2 * j + 1] = x1 * s + x2 * c;
                        }
                    } else {
                        for (int j = 0; j < half; j += L) {
                            VectorMask<Float> m = S.indexInRange(j, half);
                            FloatVector c = FloatVector.fromArray(S, cos, to + j, m);
                            FloatVector s = FloatVector.fromArray(S, sin, to + j, m);
                            if (inverse) s = s.neg();
                            FloatVector x1 = FloatVector.fromArray(S, f, xo + j, m);
                            FloatVector x2 = FloatVector.fromArray(S, f, xo + half + j, m);
                            x1.mul(c).sub(x2.mul(s)).intoArray(f, yo + j, m);
                            x1.mul(s).add(x2.mul(c)).intoArray(f, yo + half + j, m);
                        }
                    }
                    if (dims < hd && xo != yo) System.arraycopy(f, xo + dims, f, yo + dims, hd - dims);
                }
            }
        });
    }
}
