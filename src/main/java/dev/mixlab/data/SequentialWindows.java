package dev.mixlab.data;

/**
 * Non-overlapping windows in order, for evaluation: window {@code w} has inputs
 * {@code tok[w*seqLen .. w*seqLen + seqLen)} and targets shifted by one, so every token except
 * the first is predicted exactly once and results do not depend on a seed.
 */
public final class SequentialWindows {
    private final TokenData data;

    /** Windows over {@code data}. */
    public SequentialWindows(TokenData data) {
        this.data = data;
    }

    /** The source. */
    public TokenData data() {
        return data;
    }

    /**
     * Number of whole windows, {@code (size - 1) / seqLen} (the last target needs one extra
     * token).
     */
    public int windows(int seqLen) {
        if (seqLen <= 0) {
            throw new IllegalArgumentException("seqLen must be positive, got " + seqLen);
        }
        long w = Math.max(0, data.size() - 1) / seqLen;
        return (int) Math.min(w, Integer.MAX_VALUE);
    }

    /**
     * Fills windows {@code firstWindow .. firstWindow + count - 1} into rows {@code 0..count-1}
     * of {@code x} and {@code y} ({@code count * seqLen} elements each).
     *
     * @throws DataException if the data is shorter than one window
     */
    public void fill(int[] x, int[] y, int firstWindow, int count, int seqLen) {
        WindowSampler.requireWindow(data, seqLen);
        int total = windows(seqLen);
        if (firstWindow < 0 || count < 0 || (long) firstWindow + count > total) {
            throw new IndexOutOfBoundsException("windows [" + firstWindow + ", "
                    + ((long) firstWindow + count) + ") outside [0, " + total + ") of "
                    + data.describe());
        }
        int n = Math.multiplyExact(count, seqLen);
        if (x.length < n || y.length < n) {
            throw new IllegalArgumentException("x and y need " + n + " elements, got "
                    + x.length + " and " + y.length);
        }
        int[] window = new int[seqLen + 1];
        for (int r = 0; r < count; r++) {
            data.copy((long) (firstWindow + r) * seqLen, window, 0, seqLen + 1);
            System.arraycopy(window, 0, x, r * seqLen, seqLen);
            System.arraycopy(window, 1, y, r * seqLen, seqLen);
        }
    }
}
