package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.reference.Erf;
import dev.mixlab.ir.DropoutHash;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** Accuracy of the float elementary functions and equality of the split dropout hash. */
class SimdTest {
    /** Applies a vector function lane by lane to xs (padded to whole vectors). */
    interface VFn {
        FloatVector apply(FloatVector x);
    }

    static float[] map(VFn fn, float[] xs) {
        int L = Simd.L;
        float[] in = new float[(xs.length + L - 1) / L * L], out = new float[in.length];
        System.arraycopy(xs, 0, in, 0, xs.length);
        for (int i = 0; i < in.length; i += L) fn.apply(FloatVector.fromArray(Simd.S, in, i)).intoArray(out, i);
        return out;
    }

    static float[] grid(double lo, double hi, int n) {
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) xs[i] = (float) (lo + (hi - lo) * i / (n - 1));
        return xs;
    }

    @Test
    void erfWithinAbout1e7() {
        float[] xs = grid(-10, 10, 200_001);
        float[] ys = map(Simd::erf, xs);
        double worst = 0;
        for (int i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i] - Erf.erf(xs[i])));
        System.out.println("erf max abs error " + worst);
        assertTrue(worst < 1.5e-7, "erf max abs error " + worst);
    }

    @Test
    void normalCdfAccurate() {
        float[] xs = grid(-10, 10, 100_001);
        float[] ys = map(Simd::normalCdf, xs);
        double worst = 0;
        for (int i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i] - Erf.cdf(xs[i])));
        System.out.println("cdf max abs error " + worst);
        assertTrue(worst < 1.2e-7, "cdf max abs error " + worst);
    }

    @Test
    void expRelativeError() {
        float[] xs = grid(-87, 88, 400_001);
        float[] ys = map(Simd::exp, xs);
        double worst = 0;
        for (int i = 0; i < xs.length; i++) {
            double e = Math.exp(xs[i]);
            worst = Math.max(worst, Math.abs(ys[i] - e) / e);
        }
        System.out.println("exp max rel error " + worst);
        assertTrue(worst < 3e-7, "exp max relative error " + worst);
        float[] tiny = map(Simd::exp, new float[] {-100, -1e30f, Float.NEGATIVE_INFINITY});
        assertEquals(0f, tiny[0]);
        assertEquals(0f, tiny[1]);
        assertEquals(0f, tiny[2]);
    }

    @Test
    void tanhAccurate() {
        float[] xs = grid(-12, 12, 240_001);
        float[] ys = map(Simd::tanh, xs);
        double worst = 0;
        for (int i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i] - Math.tanh(xs[i])));
        System.out.println("tanh max abs error " + worst);
        assertTrue(worst < 2e-7, "tanh max abs error " + worst);
    }

    @Test
    void hsumIsTheLaneSum() {
        float[] a = new float[Simd.L];
        for (int i = 0; i < a.length; i++) a[i] = i + 1;
        assertEquals(a.length * (a.length + 1) / 2f, Simd.hsum(FloatVector.fromArray(Simd.S, a, 0)));
    }

    @Test
    void splitHashMatchesDropoutHash() {
        Random r = new Random(1);
        for (int k = 0; k < 100_000; k++) {
            int seed = r.nextInt(), salt = r.nextInt(100);
            long idx = k % 2 == 0 ? r.nextInt(1 << 30) : r.nextLong() >>> 20;
            int thr = DropoutHash.threshold(r.nextDouble());
            assertEquals(DropoutHash.keep(seed, salt, idx, thr), ElementwiseKernels.keep(ElementwiseKernels.hashPrefix(seed, salt), idx, thr));
        }
    }
}
