package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** Mean softmax cross-entropy and its gradient over logits[rows, V]. */
final class LossKernels {
    private LossKernels() {}

    private static float rowMax(float[] f, int o, int v) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < v; j += L) {
            VectorMask<Float> m = S.indexInRange(j, v);
            mx = mx.max(FloatVector.fromArray(S, f, o + j, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return mx.reduceLanes(VectorOperators.MAX);   // max is exact in any order
    }

    /** Σ_j e^{x_j - max}; when {@code out >= 0} also stores the exponentials there. */
    private static float rowExpSum(float[] f, int o, int v, float max, int out) {
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < v; j += L) {
            VectorMask<Float> m = S.indexInRange(j, v);
            FloatVector e = Simd.exp(FloatVector.fromArray(S, f, o + j, m).sub(max));
            if (out >= 0) e.intoArray(f, out + j, m);
            sum = sum.add(e, m);
        }
        return Simd.hsum(sum);
    }

    private static int target(int[] ints, int tOff, int r, int v) {
        int t = ints[tOff + r];
        if (t < 0 || t >= v) throw new IllegalArgumentException("target " + t + " outside [0," + v + ")");
        return t;
    }

    /** Mean over rows of logsumexp(x_r) - x_r[target]; per-row losses in double, summed in row order. */
    static void crossEntropy(float[] f, int[] ints, int lOff, int tOff, int outOff, int rows, int v) {
        double[] loss = Scratch.doubles(Scratch.PARTIALS, rows);
        Chunks.forRange(rows, Math.max(1, 16384 / Math.max(1, v)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = lOff + r * v, tg = target(ints, tOff, r, v);
                float max = rowMax(f, o, v);
                double lse = max + Math.log(rowExpSum(f, o, v, max, -1));
                loss[r] = lse - f[o + tg];
            }
        });
        double total = 0;
        for (int r = 0; r < rows; r++) total += loss[r];
        f[outOff] = (float) (total / rows);
    }

    /** dlogits = (softmax - onehot)·dloss/rows. */
    static void crossEntropyGrad(float[] f, int[] ints, int lOff, int tOff, int dlossOff, int outOff, int rows, int v) {
        double k = (double) f[dlossOff] / rows;
        float kf = (float) k;
        Chunks.forRange(rows, Math.max(1, 16384 / Math.max(1, v)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = lOff + r * v, go = outOff + r * v, tg = target(ints, tOff, r, v);
                float max = rowMax(f, o, v);
                float sum = rowExpSum(f, o, v, max, go);
                float c = (float) (k / sum);
                for (int j = 0; j < v; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, v);
                    FloatVector.fromArray(S, f, go + j, m).mul(c).intoArray(f, go + j, m);
                }
                f[go + tg] -= kf;
            }
        });
    }
}
