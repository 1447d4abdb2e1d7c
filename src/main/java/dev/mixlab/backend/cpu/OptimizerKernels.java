package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/** In-place AdamW and SGD-with-momentum updates (formulas as the reference interpreter). */
final class OptimizerKernels {
    private OptimizerKernels() {}

    static final int GRAIN = 1 << 14;

    /** p, m, v updated in place from g; lr, step (1-based) and gscale are scalars. */
    static void adamw(float[] f, int pOff, int gOff, int mOff, int vOff, int n, double lr, double step, double gscale,
                      double beta1, double beta2, double eps, double weightDecay) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float decay = (float) (1 - lr * weightDecay), stepSize = (float) (lr / bc1);
        float invBc2Sqrt = (float) (1 / Math.sqrt(bc2)), epsF = (float) eps, gs = (float) gscale;
        float b1c = (float) (1 - beta1), b2 = (float) beta2, b2c = (float) (1 - beta2);
        Chunks.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> mk = S.indexInRange(i, to);
                FloatVector g = FloatVector.fromArray(S, f, gOff + i, mk).mul(gs);
                FloatVector p = FloatVector.fromArray(S, f, pOff + i, mk).mul(decay);
                FloatVector m = FloatVector.fromArray(S, f, mOff + i, mk);
                m = g.sub(m).fma(FloatVector.broadcast(S, b1c), m);                                   // m += (g - m)(1-β1)
                FloatVector v = FloatVector.fromArray(S, f, vOff + i, mk);
                v = v.fma(FloatVector.broadcast(S, b2), g.mul(g).mul(b2c));                           // v = β2·v + (1-β2)g²
                FloatVector denom = v.sqrt().fma(invBc2Sqrt, epsF);
                p = p.sub(m.mul(stepSize).div(denom));
                p.intoArray(f, pOff + i, mk);
                m.intoArray(f, mOff + i, mk);
                v.intoArray(f, vOff + i, mk);
            }
        });
    }

    /** g' = g·gscale + wd·p; buf = μ·buf + g'; p -= lr·buf. */
    static void sgd(float[] f, int pOff, int gOff, int bufOff, int n, double lr, double gscale, double momentum, double weightDecay) {
        float lrF = (float) lr, gs = (float) gscale, mu = (float) momentum, wd = (float) weightDecay;
        Chunks.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> mk = S.indexInRange(i, to);
                FloatVector p = FloatVector.fromArray(S, f, pOff + i, mk);
                FloatVector d = FloatVector.fromArray(S, f, gOff + i, mk).mul(gs).add(p.mul(wd));
                FloatVector buf = FloatVector.fromArray(S, f, bufOff + i, mk).fma(FloatVector.broadcast(S, mu), d);
                p.sub(buf.mul(lrF)).intoArray(f, pOff + i, mk);
                buf.intoArray(f, bufOff + i, mk);
            }
        });
    }

    /** g' = g·gscale; buf = μ·buf + g' (in place); u = g' + μ·buf. */
    static void nesterov(float[] f, int bufOff, int gOff, int uOff, int n, double momentum, double gscale) {
        float mu = (float) momentum, gs = (float) gscale;
        Chunks.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> mk = S.indexInRange(i, to);
                FloatVector g = FloatVector.fromArray(S, f, gOff + i, mk).mul(gs);
                FloatVector buf = FloatVector.fromArray(S, f, bufOff + i, mk).fma(FloatVector.broadcast(S, mu), g);
                buf.intoArray(f, bufOff + i, mk);
                buf.fma(FloatVector.broadcast(S, mu), g).intoArray(f, uOff + i, mk);
            }
        });
    }

    /** p = p·(1 - lr·wd) - lr·scale·u. */
    static void descend(float[] f, int pOff, int uOff, int n, double lr, double scale, double weightDecay) {
        float decay = (float) (1 - lr * weightDecay), step = (float) (lr * scale);
        Chunks.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> mk = S.indexInRange(i, to);
                FloatVector p = FloatVector.fromArray(S, f, pOff + i, mk).mul(decay);
                FloatVector u = FloatVector.fromArray(S, f, uOff + i, mk);
                u.fma(FloatVector.broadcast(S, -step), p).intoArray(f, pOff + i, mk);
            }
        });
    }
}
