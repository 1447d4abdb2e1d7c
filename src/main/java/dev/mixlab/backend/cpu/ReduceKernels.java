package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Whole-tensor reductions: ReduceTo, SumSquares, GradClip. Sums run in double (or float over
 * short fixed blocks feeding a double), and per-chunk partials are combined in chunk order, so
 * the result is bit-identical for any thread count.
 */
final class ReduceKernels {
    private ReduceKernels() {}

    /** Columns per chunk when reducing column strips. */
    private static final int COLUMN_GRAIN = 128;
    /** Elements per chunk of SumSquares; each chunk's float lanes are flushed to double every BLOCK. */
    private static final int SQ_GRAIN = 1 << 14, BLOCK = 1024;

    /** y[m] = Σ over the n/m rows of x[n/m, m]. */
    static void reduceTo(float[] f, int xOff, int yOff, int n, int m) {
        if (m == 0) return;
        int rows = n / m;
        if (rows == 1) {
            System.arraycopy(f, xOff, f, yOff, m);
            return;
        }
        if (m >= 64) {
            // Strips of columns: each output element is summed by one chunk, rows in order, in double.
            Chunks.forRange(m, COLUMN_GRAIN, (c0, c1) -> {
                int len = c1 - c0;
                double[] acc = Scratch.doubles(Scratch.A, len);
                Arrays.fill(acc, 0, len, 0);
                for (int r = 0; r < rows; r++) Simd.addToDouble(f, xOff + r * m + c0, acc, 0, len);
                for (int c = 0; c < len; c++) f[yOff + c0 + c] = (float) acc[c];
            });
            return;
        }
        // Narrow output: chunks of rows with per-chunk double partials, combined in chunk order.
        int grain = Math.max(1, (1 << 14) / m);
        int chunks = Chunks.count(rows, grain);
        double[] part = Scratch.doubles(Scratch.PARTIALS, chunks * m);
        Arrays.fill(part, 0, chunks * m, 0);
        Chunks.forRange(rows, grain, (r0, r1) -> {
            int po = (r0 / grain) * m;
            for (int r = r0; r < r1; r++) Simd.addToDouble(f, xOff + r * m, part, po, m);
        });
        for (int c = 1; c < chunks; c++) for (int j = 0; j < m; j++) part[j] += part[c * m + j];
        for (int j = 0; j < m; j++) f[yOff + j] = (float) part[j];
    }

    /** y[r] = Σ_j x[r·m + j] over the last dimension (m), in double, one row per output element. */
    static void sumLast(float[] f, int xOff, int yOff, int rows, int m) {
        int grain = Math.max(1, (1 << 14) / Math.max(1, m));
        Chunks.forRange(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double s = 0;
                for (int j = 0, o = xOff + r * m; j < m; j++) s += f[o + j];
                f[yOff + r] = (float) s;
            }
        });
    }

    /** Σ x² over n elements, as a double. */
    static double sumSquares(float[] f, int xOff, int n) {
        int chunks = Chunks.count(n, SQ_GRAIN);
        double[] part = Scratch.doubles(Scratch.PARTIALS, chunks);
        Chunks.forRange(n, SQ_GRAIN, (from, to) -> {
            double total = 0;
            for (int b0 = from; b0 < to; b0 += BLOCK) {
                int b1 = Math.min(to, b0 + BLOCK);
                FloatVector acc = FloatVector.zero(S);
                int i = b0;
                for (int bound = b0 + S.loopBound(b1 - b0); i < bound; i += L) {
                    FloatVector x = FloatVector.fromArray(S, f, xOff + i);
                    acc = x.fma(x, acc);
                }
                if (i < b1) {
                    VectorMask<Float> mk = S.indexInRange(i, b1);
                    FloatVector x = FloatVector.fromArray(S, f, xOff + i, mk);
                    acc = x.fma(x, acc);
                }
                total += Simd.hsum(acc);
            }
            part[from / SQ_GRAIN] = total;
        });
        double s = 0;
        for (int c = 0; c < chunks; c++) s += part[c];
        return s;
    }

    /** Global norm over all gradients and the clipping coefficient, as {@code GradClip}. */
    static void gradClip(float[] f, int[] inOff, int[] sizes, int normOff, int coefOff, double maxNorm) {
        double acc = 0;
        for (int k = 0; k < inOff.length; k++) acc += sumSquares(f, inOff[k], sizes[k]);
        double norm = Math.sqrt(acc);
        double coef = maxNorm > 0 ? Math.min(1.0, maxNorm / (norm + 1e-6)) : 1.0;
        f[normOff] = (float) norm;
        f[coefOff] = (float) coef;
    }
}
