package dev.mixlab.backend.cpu;

/** Data movement between layouts: {@code swap_axes}. */
final class LayoutKernels {
    private LayoutKernels() {}

    /**
     * y[o, j, m, i, c] = x[o, i, m, j, c] for x viewed as {v[0] outer, v[1] n1, v[2] mid, v[3] n2, v[4] inner}:
     * parallel over output rows (o, j, m, i), each a contiguous copy of {@code inner} floats.
     */
    static void swapAxes(float[] f, int xOff, int yOff, int[] v) {
        int outer = v[0], n1 = v[1], mid = v[2], n2 = v[3], inner = v[4];
        Chunks.forRange(outer * n2 * mid * n1, Math.max(1, 4096 / Math.max(1, inner)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int i = r % n1, m = r / n1 % mid, j = r / n1 / mid % n2, o = r / n1 / mid / n2;
                System.arraycopy(f, xOff + (((o * n1 + i) * mid + m) * n2 + j) * inner, f, yOff + r * inner, inner);
            }
        });
    }
}
