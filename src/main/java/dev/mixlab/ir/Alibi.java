package dev.mixlab.ir;

/**
 * ALiBi (attention with linear biases): the (scaled, and softcapped if set) score of query position i
 * and key position j gets {@code −m_h·(i − j)}, applied after the softcap. The head slopes are the
 * published ones: for H a power of two {@code m_h = 2^(−8(h+1)/H)}; otherwise the slopes of the nearest
 * lower power of two n, then the odd-indexed (1st, 3rd, …) slopes of 2n for the remaining H − n heads.
 */
public final class Alibi {
    private Alibi() {}

    /** @return the slope of query head {@code h} of {@code heads} */
    public static double slope(int h, int heads) {
        if (heads < 1 || h < 0 || h >= heads) throw new IllegalArgumentException("head " + h + " of " + heads);
        int n = Integer.highestOneBit(heads);
        if (h < n) return Math.pow(2, -8.0 * (h + 1) / n);
        int k = 2 * (h - n);                  // 0-based index into the slopes of 2n: 0, 2, 4, …
        return Math.pow(2, -8.0 * (k + 1) / (2 * n));
    }

    /** @return the slopes of all {@code heads} query heads */
    public static double[] slopes(int heads) {
        double[] m = new double[heads];
        for (int h = 0; h < heads; h++) m[h] = slope(h, heads);
        return m;
    }

    /** @return the bias −m·(i − j) of query position i and key position j for query head h of H (0 when off) */
    public static double bias(boolean alibi, int h, int heads, int i, int j) {
        return alibi ? -slope(h, heads) * (i - j) : 0;
    }
}
