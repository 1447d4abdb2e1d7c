package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import dev.mixlab.ir.UnaryFn;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** Pointwise activations and their derivatives; every element goes through the vector path (masked tail). */
final class UnaryKernels {
    private UnaryKernels() {}

    static final int GRAIN = 1 << 13;
    /** GELU block: its staged scratch stays in L1. */
    private static final int BLK = 1024;
    private static final float RSQRT2PI = 0.39894228040143268f;

    /*
     * One loop method per function (rather than one loop calling a switch over all of them): C2
     * will not inline a callee already compiled into a big method, and a vector that crosses a
     * non-inlined call is boxed, which costs an order of magnitude.
     */
    static void forward(UnaryFn fn, float[] f, int xOff, int yOff, int n) {
        switch (fn) {
            case GELU -> Chunks.forRange(n, GRAIN, (a, b) -> geluF(f, xOff, yOff, a, b));
            case GELU_TANH -> Chunks.forRange(n, GRAIN, (a, b) -> geluTanhF(f, xOff, yOff, a, b));
            case RELU -> Chunks.forRange(n, GRAIN, (a, b) -> reluF(f, xOff, yOff, a, b));
            case SILU -> Chunks.forRange(n, GRAIN, (a, b) -> siluF(f, xOff, yOff, a, b));
            case RELU2 -> Chunks.forRange(n, GRAIN, (a, b) -> relu2F(f, xOff, yOff, a, b));
            case TANH -> Chunks.forRange(n, GRAIN, (a, b) -> tanhF(f, xOff, yOff, a, b));
            case EXP -> Chunks.forRange(n, GRAIN, (a, b) -> expF(f, xOff, yOff, a, b));
            case SIGMOID -> Chunks.forRange(n, GRAIN, (a, b) -> sigmoidF(f, xOff, yOff, a, b));
            case SOFTPLUS -> Chunks.forRange(n, GRAIN, (a, b) -> softplusF(f, xOff, yOff, a, b));
            case LOG_SOFTPLUS -> Chunks.forRange(n, GRAIN, (a, b) -> logSoftplusF(f, xOff, yOff, a, b));
        }
    }

    static void backward(UnaryFn fn, float[] f, int xOff, int dyOff, int dxOff, int n) {
        switch (fn) {
            case GELU -> Chunks.forRange(n, GRAIN, (a, b) -> geluB(f, xOff, dyOff, dxOff, a, b));
            case GELU_TANH -> Chunks.forRange(n, GRAIN, (a, b) -> geluTanhB(f, xOff, dyOff, dxOff, a, b));
            case RELU -> Chunks.forRange(n, GRAIN, (a, b) -> reluB(f, xOff, dyOff, dxOff, a, b));
            case SILU -> Chunks.forRange(n, GRAIN, (a, b) -> siluB(f, xOff, dyOff, dxOff, a, b));
            case RELU2 -> Chunks.forRange(n, GRAIN, (a, b) -> relu2B(f, xOff, dyOff, dxOff, a, b));
            case TANH -> Chunks.forRange(n, GRAIN, (a, b) -> tanhB(f, xOff, dyOff, dxOff, a, b));
            case EXP -> Chunks.forRange(n, GRAIN, (a, b) -> expB(f, xOff, dyOff, dxOff, a, b));
            case SIGMOID -> Chunks.forRange(n, GRAIN, (a, b) -> sigmoidB(f, xOff, dyOff, dxOff, a, b));
            case SOFTPLUS -> Chunks.forRange(n, GRAIN, (a, b) -> softplusB(f, xOff, dyOff, dxOff, a, b));
            case LOG_SOFTPLUS -> Chunks.forRange(n, GRAIN, (a, b) -> logSoftplusB(f, xOff, dyOff, dxOff, a, b));
        }
    }

    /*
     * softplus acts on the recurrent mixers' small [B,T,H] step-size tensors: a scalar loop (double
     * exp/log, rounded once) is plenty. Computed as max(x,0) + log1p(e^-|x|) so it never overflows.
     */
    private static void softplusF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i++) {
            double x = f[xOff + i];
            f[yOff + i] = (float) (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
        }
    }

    /** dy·sigmoid(x), softplus' derivative. */
    private static void softplusB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i++) {
            double x = f[xOff + i];
            f[dxOff + i] = (float) (f[dyOff + i] / (1 + Math.exp(-x)));
        }
    }

    /** log(softplus(x)); x itself below −20, where softplus(x) = e^x to double precision. */
    private static void logSoftplusF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i++) {
            double x = f[xOff + i];
            f[yOff + i] = (float) (x < -20 ? x : Math.log(Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))));
        }
    }

    /** dy·sigmoid(x)/softplus(x), log-softplus' derivative (1 below −20). */
    private static void logSoftplusB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i++) {
            double x = f[xOff + i];
            double d = x < -20 ? 1 : 1 / (1 + Math.exp(-x)) / (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
            f[dxOff + i] = (float) (f[dyOff + i] * d);
        }
    }

    /** GELU in blocks: Φ staged through scratch (see {@link Simd#normalCdfStaged}), then x·Φ. */
    private static void geluF(float[] f, int xOff, int yOff, int from, int to) {
        float[] cdf = Scratch.floats(Scratch.A, BLK), t = Scratch.floats(Scratch.B, BLK), arg = Scratch.floats(Scratch.C, BLK);
        for (int b0 = from; b0 < to; b0 += BLK) {
            int n = Math.min(BLK, to - b0);
            Simd.normalCdfStaged(f, xOff + b0, n, cdf, t, arg);
            for (int i = 0; i < n; i += L) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector.fromArray(S, f, xOff + b0 + i, m).mul(FloatVector.fromArray(S, cdf, i, m)).intoArray(f, yOff + b0 + i, m);
            }
        }
    }

    /** dy·(Φ(x) + x·φ(x)), φ from a second exp pass over -x²/2. */
    private static void geluB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        float[] cdf = Scratch.floats(Scratch.A, BLK), t = Scratch.floats(Scratch.B, BLK), arg = Scratch.floats(Scratch.C, BLK);
        for (int b0 = from; b0 < to; b0 += BLK) {
            int n = Math.min(BLK, to - b0);
            Simd.normalCdfStaged(f, xOff + b0, n, cdf, t, arg);
            for (int i = 0; i < n; i += L) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector x = FloatVector.fromArray(S, f, xOff + b0 + i, m);
                x.mul(x).mul(-0.5f).intoArray(t, i, m);
            }
            Simd.expInPlace(t, 0, n);
            for (int i = 0; i < n; i += L) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector x = FloatVector.fromArray(S, f, xOff + b0 + i, m);
                FloatVector pdf = FloatVector.fromArray(S, t, i, m).mul(RSQRT2PI);
                FloatVector d = x.fma(pdf, FloatVector.fromArray(S, cdf, i, m));
                FloatVector.fromArray(S, f, dyOff + b0 + i, m).mul(d).intoArray(f, dxOff + b0 + i, m);
            }
        }
    }

    /*
     * GELU (tanh form): 0.5·(1 + tanh(u)) = sigmoid(2u) with u = c·(x + a·x³), so
     * f = x·s and f' = s + x·s·(1-s)·2c·(1 + 3a·x²), s = sigmoid(2u).
     */
    private static final float GT_2C = (float) (2 * Math.sqrt(2 / Math.PI)), GT_A = 0.044715f;

    private static void geluTanhF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m);
            FloatVector u2 = x.mul(x).fma(GT_A, 1f).mul(x).mul(GT_2C);
            x.mul(Simd.sigmoid(u2)).intoArray(f, yOff + i, m);
        }
    }

    private static void geluTanhB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            FloatVector x2 = x.mul(x);
            FloatVector s = Simd.sigmoid(x2.fma(GT_A, 1f).mul(x).mul(GT_2C));
            FloatVector du = x2.fma(3 * GT_A, 1f).mul(GT_2C);                              // d(2u)/dx
            FloatVector d = x.mul(s).mul(FloatVector.broadcast(S, 1f).sub(s)).fma(du, s); // s + x·s·(1-s)·du
            dy.mul(d).intoArray(f, dxOff + i, m);
        }
    }

    private static void reluF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m);
            FloatVector.zero(S).blend(x, x.compare(VectorOperators.GT, 0f)).intoArray(f, yOff + i, m);
        }
    }

    private static void reluB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            dfRelu(x, dy).intoArray(f, dxOff + i, m);
        }
    }

    private static void siluF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m);
            x.mul(Simd.sigmoid(x)).intoArray(f, yOff + i, m);
        }
    }

    private static void siluB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            dfSilu(x, dy).intoArray(f, dxOff + i, m);
        }
    }

    private static void relu2F(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m);
            FloatVector.zero(S).blend(x.mul(x), x.compare(VectorOperators.GT, 0f)).intoArray(f, yOff + i, m);
        }
    }

    private static void relu2B(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            dfRelu2(x, dy).intoArray(f, dxOff + i, m);
        }
    }

    private static void tanhF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m);
            Simd.tanh(x).intoArray(f, yOff + i, m);
        }
    }

    private static void tanhB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            dfTanh(x, dy).intoArray(f, dxOff + i, m);
        }
    }

    /** e^x, in double per element: exp is used on a few scalars (differential attention's λ), not in hot loops. */
    private static void expF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i++) f[yOff + i] = (float) Math.exp(f[xOff + i]);
    }

    private static void expB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i++) f[dxOff + i] = (float) (f[dyOff + i] * Math.exp(f[xOff + i]));
    }

    private static void sigmoidF(float[] f, int xOff, int yOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            Simd.sigmoid(FloatVector.fromArray(S, f, xOff + i, m)).intoArray(f, yOff + i, m);
        }
    }

    /** dy·s·(1 − s). */
    private static void sigmoidB(float[] f, int xOff, int dyOff, int dxOff, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector s = Simd.sigmoid(FloatVector.fromArray(S, f, xOff + i, m)), dy = FloatVector.fromArray(S, f, dyOff + i, m);
            dy.mul(s.mul(FloatVector.broadcast(S, 1f).sub(s))).intoArray(f, dxOff + i, m);
        }
    }

    private static FloatVector dfRelu(FloatVector x, FloatVector dy) {
        return FloatVector.zero(S).blend(dy, x.compare(VectorOperators.GT, 0f));
    }

    private static FloatVector dfSilu(FloatVector x, FloatVector dy) {
        FloatVector s = Simd.sigmoid(x);
        return dy.mul(s.mul(x.mul(FloatVector.broadcast(S, 1f).sub(s)).add(1f)));   // s·(1 + x·(1-s))
    }

    private static FloatVector dfRelu2(FloatVector x, FloatVector dy) {
        return FloatVector.zero(S).blend(dy.mul(x.add(x)), x.compare(VectorOperators.GT, 0f));
    }

    private static FloatVector dfTanh(FloatVector x, FloatVector dy) {
        FloatVector t = Simd.tanh(x);
        return dy.mul(t.neg().fma(t, FloatVector.broadcast(S, 1f)));   // 1 - tanh²
    }
}
