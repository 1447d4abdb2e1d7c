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

    static void forward(UnaryFn fn, float[] f, int xOff, int yOff, int n) {
        Chunks.forRange(n, GRAIN, (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                f(fn, FloatVector.fromArray(S, f, xOff + i)).intoArray(f, yOff + i);
            }
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                f(fn, FloatVector.fromArray(S, f, xOff + i, m)).intoArray(f, yOff + i, m);
            }
        });
    }

    static void backward(UnaryFn fn, float[] f, int xOff, int dyOff, int dxOff, int n) {
        Chunks.forRange(n, GRAIN, (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                FloatVector x = FloatVector.fromArray(S, f, xOff + i), dy = FloatVector.fromArray(S, f, dyOff + i);
                df(fn, x, dy).intoArray(f, dxOff + i);
            }
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                FloatVector x = FloatVector.fromArray(S, f, xOff + i, m), dy = FloatVector.fromArray(S, f, dyOff + i, m);
                df(fn, x, dy).intoArray(f, dxOff + i, m);
            }
        });
    }

    /** f(x). */
    static FloatVector f(UnaryFn fn, FloatVector x) {
        return switch (fn) {
            case GELU -> x.mul(Simd.normalCdf(x));
            case RELU -> FloatVector.zero(S).blend(x, x.compare(VectorOperators.GT, 0f));
            case SILU -> x.mul(Simd.sigmoid(x));
            case RELU2 -> FloatVector.zero(S).blend(x.mul(x), x.compare(VectorOperators.GT, 0f));
            case TANH -> Simd.tanh(x);
        };
    }

    /** dy·f'(x). */
    static FloatVector df(UnaryFn fn, FloatVector x, FloatVector dy) {
        return switch (fn) {
            case GELU -> dy.mul(x.fma(Simd.normalPdf(x), Simd.normalCdf(x)));
            case RELU -> FloatVector.zero(S).blend(dy, x.compare(VectorOperators.GT, 0f));
            case SILU -> {
                FloatVector s = Simd.sigmoid(x);
                // s·(1 + x·(1-s))
                yield dy.mul(s.mul(x.mul(FloatVector.broadcast(S, 1f).sub(s)).add(1f)));
            }
            case RELU2 -> FloatVector.zero(S).blend(dy.mul(x.add(x)), x.compare(VectorOperators.GT, 0f));
            case TANH -> {
                FloatVector t = Simd.tanh(x);
                yield dy.mul(t.neg().fma(t, FloatVector.broadcast(S, 1f)));
            }
        };
    }
}
