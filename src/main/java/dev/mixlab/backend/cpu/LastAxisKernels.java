package dev.mixlab.backend.cpu;

/**
 * PadLast and SliceLast: copies between channel ranges of the last axis, broadcasting (pad) or
 * summing (slice) a size-1 second-to-last axis. Each output row is written by one chunk, and a
 * summed row adds its inputs in index order, so results do not depend on the thread count.
 */
final class LastAxisKernels {
    private LastAxisKernels() {}

    /** Output rows per chunk: a row is short (a head's channels), so hand out many at once. */
    private static final int GRAIN_ROWS = 256;

    /**
     * y[o, i, start + j] = x[o, r == 1 ? 0 : i, j] for {@code o < outer, i < rows, j < n}, zero elsewhere
     * in rows of {@code total} channels; x has {@code r} (rows or 1) rows of n channels per o.
     */
    static void pad(float[] f, int xOff, int yOff, int outer, int r, int n, int rows, int start, int total) {
        Chunks.forRange(outer * rows, GRAIN_ROWS, (from, to) -> {
            for (int row = from; row < to; row++) {
                int o = row / rows, i = row % rows;
                int y = yOff + row * total, x = xOff + (o * r + (r == 1 ? 0 : i)) * n;
                java.util.Arrays.fill(f, y, y + start, 0f);
                System.arraycopy(f, x, f, y + start, n);
                java.util.Arrays.fill(f, y + start + n, y + total, 0f);
            }
        });
    }

    /**
     * y[o, i, j] = x[o, i, start + j] when {@code rows == r}; y[o, 0, j] = Σ_i x[o, i, start + j] when
     * {@code rows == 1}; x has r rows of n channels per o.
     */
    static void slice(float[] f, int xOff, int yOff, int outer, int r, int n, int rows, int start, int len) {
        Chunks.forRange(outer * rows, GRAIN_ROWS, (from, to) -> {
            for (int row = from; row < to; row++) {
                int y = yOff + row * len;
                if (rows == r) {
                    System.arraycopy(f, xOff + row * n + start, f, y, len);
                    continue;
                }
                int x = xOff + row * r * n + start;   // rows == 1: row is o
                for (int j = 0; j < len; j++) {
                    float s = 0;
                    for (int i = 0; i < r; i++) s += f[x + i * n + j];
                    f[y + j] = s;
                }
            }
        });
    }
}
