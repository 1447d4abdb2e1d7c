package dev.mixlab.data;

/**
 * Draws training batches of random windows: each row is {@code seqLen + 1} consecutive tokens
 * starting at a uniform position, split into inputs and next-token targets. Deterministic from
 * the seed; {@link #state()} / {@link #restore} resume exactly.
 */
public final class WindowSampler {
    private final TokenData data;
    private final SplitMix64 rng;
    private int[] window = new int[0];

    /** Samples windows of {@code data} using a {@link SplitMix64} seeded with {@code seed}. */
    public WindowSampler(TokenData data, long seed) {
        this.data = data;
        this.rng = new SplitMix64(seed);
    }

    /** The source sampled from. */
    public TokenData data() {
        return data;
    }

    /**
     * Fills {@code batch} rows: for row {@code b} with random start {@code s} in
     * {@code [0, size - seqLen - 1]}, {@code x[b*seqLen + t] = tok[s + t]} and
     * {@code y[b*seqLen + t] = tok[s + t + 1]}.
     *
     * @throws DataException if the data is shorter than one window of {@code seqLen + 1}
     */
    public void next(int[] x, int[] y, int batch, int seqLen) {
        if (batch < 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch " + batch + ", seqLen " + seqLen);
        }
        int n = Math.multiplyExact(batch, seqLen);
        if (x.length < n || y.length < n) {
            throw new IllegalArgumentException("x and y need " + n + " elements, got "
                    + x.length + " and " + y.length);
        }
        requireWindow(data, seqLen);
        if (window.length < seqLen + 1) {
            window = new int[seqLen + 1];
        }
        long starts = data.size() - seqLen; // s in [0, size - seqLen - 1]
        for (int b = 0; b < batch; b++) {
            long s = rng.nextLong(starts);
            data.copy(s, window, 0, seqLen + 1);
            System.arraycopy(window, 0, x, b * seqLen, seqLen);
            System.arraycopy(window, 1, y, b * seqLen, seqLen);
        }
    }

    /** The generator state; save it with a checkpoint. */
    public long state() {
        return rng.state();
    }

    /** Resumes from a {@link #state()}: the following batches equal those after the save. */
    public void restore(long state) {
        rng.restore(state);
    }

    static void requireWindow(TokenData data, int seqLen) {
        long need = (long) seqLen + 1;
        if (data.size() < need) {
            throw new DataException(data.describe(), data.size()
                    + " tokens, shorter than one window of seq_len+1 = " + need,
                    "use more data or a smaller seq_len");
        }
    }
}
