package dev.mixlab.ir;

/**
 * The key range of causal attention with an optional sliding window and optional chunks: query
 * position i attends keys j with {@code first(i) <= j <= i}, where the window ({@code window > 0})
 * allows {@code j > i - window} and chunked attention ({@code chunk > 0}, Llama 4) allows only
 * {@code j >= floor(i/chunk)·chunk}, the start of i's chunk. Both bounds are nondecreasing in i, so
 * the range is contiguous and, seen from a key, so is the set of queries that see it:
 * {@code j <= i < queryEnd(j)}. Every backend's kernels use this rule.
 */
public final class AttnMask {
    private AttnMask() {}

    /** @return the first key query position {@code i} attends */
    public static int first(int i, int window, int chunk) {
        int lo = window > 0 ? Math.max(0, i - window + 1) : 0;
        return chunk > 0 ? Math.max(lo, i / chunk * chunk) : lo;
    }

    /** @return one past the last query position that attends key {@code j}, in a sequence of {@code t} */
    public static int queryEnd(int j, int window, int chunk, int t) {
        int end = t;
        if (window > 0) end = Math.min(end, j + window);
        if (chunk > 0) end = Math.min(end, (j / chunk + 1) * chunk);
        return end;
    }

    /** @return the position RoPE uses for sequence position {@code t}: t, or t mod period when positions restart every {@code period} */
    public static int ropePosition(int t, int period) {
        return period > 0 ? t % period : t;
    }
}
