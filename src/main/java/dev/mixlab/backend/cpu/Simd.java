package dev.mixlab.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector helpers shared by the kernels.
 *
 * <p>Determinism: only lane-wise operations whose IEEE result is fully specified (add, mul, fma,
 * div, sqrt, compare, blend, bit casts, integer ops) are used. The Vector API's transcendental
 * operators and floating-point {@code reduceLanes(ADD)} are avoided on purpose: their compiled
 * (intrinsic) and interpreted (fallback) forms may round differently or sum in another order,
 * so results could change once the JIT kicks in. {@link #exp} is built from exact operations and
 * {@link #hsum} reduces in a fixed butterfly order.
 */
final class Simd {
    private Simd() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    /** Doubles and the float species with as many lanes, for widening accumulations. */
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    static final int DL = DS.length();

    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterfly() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int off = L >> (k + 1);
            s[k] = VectorShuffle.fromOp(S, i -> i ^ off);
        }
        return s;
    }

    /** Sum of the lanes in a fixed order (pairwise butterfly), identical in compiled and interpreted code. */
    static float hsum(FloatVector v) {
        for (VectorShuffle<Float> sh : BUTTERFLY) v = v.add(v.rearrange(sh));
        return v.lane(0);
    }

    /** Σ a[ao+c]·b[bo+c] for c in [0,n), float lanes. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int c = 0;
        for (int bound = S.loopBound(n); c < bound; c += L) {
            acc = FloatVector.fromArray(S, a, ao + c).fma(FloatVector.fromArray(S, b, bo + c), acc);
        }
        if (c < n) {
            VectorMask<Float> m = S.indexInRange(c, n);
            acc = FloatVector.fromArray(S, a, ao + c, m).fma(FloatVector.fromArray(S, b, bo + c, m), acc);
        }
        return hsum(acc);
    }

    /** y[yo+c] += alpha·x[xo+c] for c in [0,n). */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int c = 0;
        for (int bound = S.loopBound(n); c < bound; c += L) {
            FloatVector.fromArray(S, x, xo + c).fma(av, FloatVector.fromArray(S, y, yo + c)).intoArray(y, yo + c);
        }
        if (c < n) {
            VectorMask<Float> m = S.indexInRange(c, n);
            FloatVector.fromArray(S, x, xo + c, m).fma(av, FloatVector.fromArray(S, y, yo + c, m)).intoArray(y, yo + c, m);
        }
    }

    /** acc[ao+c] += x[xo+c] in double, for c in [0,n). */
    static void addToDouble(float[] x, int xo, double[] acc, int ao, int n) {
        int c = 0;
        for (int bound = FH.loopBound(n); c < bound; c += DL) {
            DoubleVector xv = (DoubleVector) FloatVector.fromArray(FH, x, xo + c).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector.fromArray(DS, acc, ao + c).add(xv).intoArray(acc, ao + c);
        }
        for (; c < n; c++) acc[ao + c] += x[xo + c];
    }

    /** acc[ao+c] += x[xo+c]·y[yo+c] (product rounded to float, then summed in double), c in [0,n). */
    static void addProductToDouble(float[] x, int xo, float[] y, int yo, double[] acc, int ao, int n) {
        int c = 0;
        for (int bound = FH.loopBound(n); c < bound; c += DL) {
            FloatVector p = FloatVector.fromArray(FH, x, xo + c).mul(FloatVector.fromArray(FH, y, yo + c));
            DoubleVector pv = (DoubleVector) p.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector.fromArray(DS, acc, ao + c).add(pv).intoArray(acc, ao + c);
        }
        for (; c < n; c++) acc[ao + c] += x[xo + c] * y[yo + c];
    }

    static FloatVector bc(float v) {
        return FloatVector.broadcast(S, v);
    }

    // ---- elementary functions from exact operations ----

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // few mantissa bits: n·LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MAGIC = 12582912f;             // 1.5·2^23: adding it rounds to an integer
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);

    /**
     * e^x, relative error about 2 ulp on [-87, 88]; inputs below about -87.3 give 0 and above 88.37
     * are clamped (callers only exponentiate non-positive or moderate arguments).
     * x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite), e^r by its degree-7 Taylor polynomial
     * (truncation below 6e-9), 2^n assembled in the exponent bits.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-88.0f).min(88.37f);
        FloatVector t = x.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector r = n.fma(bc(-LN2_HI), x);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(1f / 5040f, 1f / 720f);
        p = p.fma(r, bc(1f / 120f));
        p = p.fma(r, bc(1f / 24f));
        p = p.fma(r, bc(1f / 6f));
        p = p.fma(r, bc(0.5f));
        p = p.fma(r, bc(1f));
        p = p.fma(r, bc(1f));
        IntVector ni = t.reinterpretAsInts().sub(MAGIC_BITS);
        FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale);
    }

    /** a[off..off+n) = e^{a[...]} in place: array in, array out, so no vector crosses a call. */
    static void expInPlace(float[] a, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            exp(FloatVector.fromArray(S, a, off + i, m)).intoArray(a, off + i, m);
        }
    }

    /**
     * Φ(x) for n elements of x into cdf[0..n), as {@link #normalCdf} but in three small loops
     * (t and exponent, exp, combine) through the scratch arrays t and arg: one loop holding the
     * whole function is too big for C2 to inline its helpers, and a non-inlined vector call boxes.
     */
    static void normalCdfStaged(float[] x, int xo, int n, float[] cdf, float[] t, float[] arg) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector z = FloatVector.fromArray(S, x, xo + i, m).mul(RSQRT2), az = z.abs();
            FloatVector tv = FloatVector.broadcast(S, 1f).div(az.fma(bc(0.5f), bc(1f)));
            tv.intoArray(t, i, m);
            erfcExponent(az, tv).intoArray(arg, i, m);
            erfSeries(z).fma(bc(0.5f), bc(0.5f)).intoArray(cdf, i, m);
        }
        expInPlace(arg, 0, n);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = FloatVector.fromArray(S, x, xo + i, m);
            FloatVector h = FloatVector.fromArray(S, t, i, m).mul(FloatVector.fromArray(S, arg, i, m)).mul(0.5f);
            FloatVector tail = h.blend(FloatVector.broadcast(S, 1f).sub(h), xv.compare(VectorOperators.GT, 0f));
            FloatVector mid = FloatVector.fromArray(S, cdf, i, m);
            tail.blend(mid, xv.abs().mul(RSQRT2).compare(VectorOperators.LT, SERIES_LIMIT)).intoArray(cdf, i, m);
        }
    }

    /** 1/(1+e^{-x}). */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    /**
     * tanh: odd Taylor series to x^13 for |x| < 0.3 (error below 1e-9 relative), else
     * sign(x)·(1 - 2/(e^{2|x|}+1)) (absolute error about 1e-7).
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(ax.add(ax)).add(1f)));
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.fma(21844f / 6081075f, -1382f / 155925f);
        p = p.fma(x2, bc(62f / 2835f));
        p = p.fma(x2, bc(-17f / 315f));
        p = p.fma(x2, bc(2f / 15f));
        p = p.fma(x2, bc(-1f / 3f));
        FloatVector small = p.mul(x2).fma(x, x);
        FloatVector signed = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return signed.blend(small, ax.compare(VectorOperators.LT, 0.3f));
    }

    private static final float RSQRT2 = 0.70710678118654752f;
    private static final float RSQRT2PI = 0.39894228040143268f;

    /**
     * erfc(z) for z ≥ 0 by the classic Chebyshev-fitted form
     * t·exp(-z² + P(t)), t = 1/(1+z/2), fractional error below about 1.2e-7.
     */
    static FloatVector erfcNonNeg(FloatVector z) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(bc(0.5f), bc(1f)));
        return t.mul(exp(erfcExponent(z, t)));
    }

    /** -z² + P(t) of {@link #erfcNonNeg}. */
    static FloatVector erfcExponent(FloatVector z, FloatVector t) {
        FloatVector p = t.fma(bc(0.17087277f), bc(-0.82215223f));
        p = p.fma(t, bc(1.48851587f));
        p = p.fma(t, bc(-1.13520398f));
        p = p.fma(t, bc(0.27886807f));
        p = p.fma(t, bc(-0.18628806f));
        p = p.fma(t, bc(0.09678418f));
        p = p.fma(t, bc(0.37409196f));
        p = p.fma(t, bc(1.00002368f));
        p = p.fma(t, bc(-1.26551223f));
        return z.mul(z).neg().add(p);
    }

    /** Below this |z| erf comes from its Maclaurin series: 1 - erfc would lose the absolute accuracy there. */
    private static final float SERIES_LIMIT = 0.75f;
    private static final float TWO_OVER_SQRT_PI = 1.12837916709551257f;

    /**
     * erf by its Maclaurin series Σ (-1)^n z^(2n+1)/(n!(2n+1)) through n = 7; for |z| ≤ 0.75 the
     * first omitted term is below 1.2e-8.
     */
    static FloatVector erfSeries(FloatVector z) {
        FloatVector z2 = z.mul(z);
        FloatVector p = z2.fma(bc(-1f / 75600f), bc(1f / 9360f));
        p = p.fma(z2, bc(-1f / 1320f));
        p = p.fma(z2, bc(1f / 216f));
        p = p.fma(z2, bc(-1f / 42f));
        p = p.fma(z2, bc(1f / 10f));
        p = p.fma(z2, bc(-1f / 3f));
        p = p.fma(z2, bc(1f));
        return p.mul(z).mul(TWO_OVER_SQRT_PI);
    }

    /** erf(x): the series near 0, else 1 - erfc(|x|) with the sign of x. */
    static FloatVector erf(FloatVector x) {
        FloatVector e = FloatVector.broadcast(S, 1f).sub(erfcNonNeg(x.abs()));
        e = e.blend(e.neg(), x.compare(VectorOperators.LT, 0f));
        return e.blend(erfSeries(x), x.abs().compare(VectorOperators.LT, SERIES_LIMIT));
    }

    /**
     * Φ(x), the standard normal CDF: (1 + erf(x/√2))/2 from the series near 0; elsewhere
     * erfc(-x/√2)/2, which for x < 0 keeps erfc's small relative error far into the tail and for
     * x > 0 is 1 - erfc(x/√2)/2.
     */
    static FloatVector normalCdf(FloatVector x) {
        FloatVector z = x.mul(RSQRT2), az = z.abs();
        FloatVector h = erfcNonNeg(az).mul(0.5f);
        FloatVector tail = h.blend(FloatVector.broadcast(S, 1f).sub(h), x.compare(VectorOperators.GT, 0f));
        FloatVector mid = erfSeries(z).fma(bc(0.5f), bc(0.5f));
        return tail.blend(mid, az.compare(VectorOperators.LT, SERIES_LIMIT));
    }

    /** φ(x), the standard normal density. */
    static FloatVector normalPdf(FloatVector x) {
        return exp(x.mul(x).mul(-0.5f)).mul(RSQRT2PI);
    }
}
