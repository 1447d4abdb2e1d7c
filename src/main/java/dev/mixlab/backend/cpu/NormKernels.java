package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * LayerNorm and RmsNorm over the last dimension, forward and backward. Row statistics are float
 * lane sums (one row is short); the weight/bias gradients sum over all rows, so each chunk of rows
 * keeps double partials that are combined in chunk order. Offsets of absent w/b are -1.
 */
final class NormKernels {
    private NormKernels() {}

    /** Rows per chunk: at least ~4k elements, and at most 64 chunks so the partial buffers stay small. */
    static int rowGrain(int rows, int d) {
        return Math.max(Math.max(1, 4096 / Math.max(1, d)), (rows + 63) / 64);
    }

    private static float rowSum(float[] f, int o, int d) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(d); j < bound; j += L) acc = acc.add(FloatVector.fromArray(S, f, o + j));
        if (j < d) acc = acc.add(FloatVector.fromArray(S, f, o + j, S.indexInRange(j, d)));
        return Simd.hsum(acc);
    }

    /** Σ (x - mean)² over one row (two-pass variance). */
    private static float rowSqDev(float[] f, int o, int d, float mean) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(d); j < bound; j += L) {
            FloatVector x = FloatVector.fromArray(S, f, o + j).sub(mean);
            acc = x.fma(x, acc);
        }
        if (j < d) {
            VectorMask<Float> m = S.indexInRange(j, d);
            FloatVector x = FloatVector.fromArray(S, f, o + j, m).sub(mean, m);
            acc = x.fma(x, acc);
        }
        return Simd.hsum(acc);
    }

    static void layerNorm(float[] f, int xOff, int wOff, int bOff, int yOff, int rows, int d, double eps) {
        Chunks.forRange(rows, rowGrain(rows, d), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xo = xOff + r * d, yo = yOff + r * d;
                float mean = rowSum(f, xo, d) / d;
                float rstd = (float) (1 / Math.sqrt((double) rowSqDev(f, xo, d, mean) / d + eps));
                int j = 0;
                for (; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector y = FloatVector.fromArray(S, f, xo + j, m).sub(mean).mul(rstd);
                    if (wOff >= 0) y = y.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    if (bOff >= 0) y = y.add(FloatVector.fromArray(S, f, bOff + j, m));
                    y.intoArray(f, yo + j, m);
                }
            }
        });
    }

    /** (x, [w], dy) -> (dx, [dw], [db]); dwOff/dbOff are -1 when absent. */
    static void layerNormGrad(float[] f, int xOff, int wOff, int dyOff, int dxOff, int dwOff, int dbOff,
                              int rows, int d, double eps) {
        int grain = rowGrain(rows, d);
        int chunks = Chunks.count(rows, grain);
        boolean params = dwOff >= 0 || dbOff >= 0;
        // partials: per chunk [dw(d) | db(d)]
        double[] part = params ? Scratch.doubles(Scratch.PARTIALS, chunks * 2 * d) : null;
        if (params) Arrays.fill(part, 0, chunks * 2 * d, 0);
        Chunks.forRange(rows, grain, (r0, r1) -> {
            float[] xhat = Scratch.floats(Scratch.A, d);
            int po = (r0 / grain) * 2 * d;
            for (int r = r0; r < r1; r++) {
                int xo = xOff + r * d, go = dyOff + r * d;
                float mean = rowSum(f, xo, d) / d;
                float rstd = (float) (1 / Math.sqrt((double) rowSqDev(f, xo, d, mean) / d + eps));
                FloatVector sumG = FloatVector.zero(S), sumGX = FloatVector.zero(S);
                for (int j = 0; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector xh = FloatVector.fromArray(S, f, xo + j, m).sub(mean, m).mul(rstd);
                    xh.intoArray(xhat, j, m);
                    FloatVector g = FloatVector.fromArray(S, f, go + j, m);
                    if (wOff >= 0) g = g.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    sumG = sumG.add(g);
                    sumGX = g.fma(xh, sumGX);
                }
                float mg = Simd.hsum(sumG) / d, mgx = Simd.hsum(sumGX) / d;
                for (int j = 0; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector g = FloatVector.fromArray(S, f, go + j, m);
                    if (wOff >= 0) g = g.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    FloatVector xh = FloatVector.fromArray(S, xhat, j, m);
                    // rstd·(g - mean(g) - x̂·mean(g·x̂))
                    xh.mul(-mgx).add(g).sub(mg).mul(rstd).intoArray(f, dxOff + r * d + j, m);
                }
                if (dwOff >= 0) Simd.addProductToDouble(f, go, xhat, 0, part, po, d);
                if (dbOff >= 0) Simd.addToDouble(f, go, part, po + d, d);
            }
        });
        if (params) finishParams(f, part, chunks, d, dwOff, dbOff);
    }

    /** Combines per-chunk [dw|db] partials in chunk order and stores them as float. */
    private static void finishParams(float[] f, double[] part, int chunks, int d, int dwOff, int dbOff) {
        for (int c = 1; c < chunks; c++) {
            int po = c * 2 * d;
            for (int j = 0; j < 2 * d; j++) part[j] += part[po + j];
        }
        if (dwOff >= 0) for (int j = 0; j < d; j++) f[dwOff + j] = (float) part[j];
        if (dbOff >= 0) for (int j = 0; j < d; j++) f[dbOff + j] = (float) part[d + j];
    }

    static void rmsNorm(float[] f, int xOff, int wOff, int yOff, int rows, int d, double eps) {
        Chunks.forRange(rows, rowGrain(rows, d), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xo = xOff + r * d, yo = yOff + r * d;
                float rs = (float) (1 / Math.sqrt((double) Simd.dot(f, xo, f, xo, d) / d + eps));
                for (int j = 0; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector y = FloatVector.fromArray(S, f, xo + j, m).mul(rs);
                    if (wOff >= 0) y = y.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    y.intoArray(f, yo + j, m);
                }
            }
        });
    }

    /** (x, [w], dy) -> (dx, [dw]); dwOff is -1 when absent. */
    static void rmsNormGrad(float[] f, int xOff, int wOff, int dyOff, int dxOff, int dwOff, int rows, int d, double eps) {
        int grain = rowGrain(rows, d);
        int chunks = Chunks.count(rows, grain);
        double[] part = dwOff >= 0 ? Scratch.doubles(Scratch.PARTIALS, chunks * 2 * d) : null;
        if (dwOff >= 0) Arrays.fill(part, 0, chunks * 2 * d, 0);
        Chunks.forRange(rows, grain, (r0, r1) -> {
            float[] xhat = Scratch.floats(Scratch.A, d);
            int po = (r0 / grain) * 2 * d;
            for (int r = r0; r < r1; r++) {
                int xo = xOff + r * d, go = dyOff + r * d;
                float rs = (float) (1 / Math.sqrt((double) Simd.dot(f, xo, f, xo, d) / d + eps));
                FloatVector sumGX = FloatVector.zero(S);
                for (int j = 0; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector xh = FloatVector.fromArray(S, f, xo + j, m).mul(rs);
                    xh.intoArray(xhat, j, m);
                    FloatVector g = FloatVector.fromArray(S, f, go + j, m);
                    if (wOff >= 0) g = g.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    sumGX = g.fma(xh, sumGX);
                }
                float mgx = Simd.hsum(sumGX) / d;
                for (int j = 0; j < d; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, d);
                    FloatVector g = FloatVector.fromArray(S, f, go + j, m);
                    if (wOff >= 0) g = g.mul(FloatVector.fromArray(S, f, wOff + j, m));
                    FloatVector xh = FloatVector.fromArray(S, xhat, j, m);
                    // rs·(g - x̂·mean(g·x̂))
                    xh.mul(-mgx).add(g).mul(rs).intoArray(f, dxOff + r * d + j, m);
                }
                if (dwOff >= 0) Simd.addProductToDouble(f, go, xhat, 0, part, po, d);
            }
        });
        if (dwOff >= 0) finishParams(f, part, chunks, d, dwOff, -1);
    }
}
