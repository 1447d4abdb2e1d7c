package dev.mixlab.data;

/**
 * Training and validation tokens, with a note for the run log saying where val came from.
 *
 * @param train tokens to train on
 * @param val   tokens to evaluate on
 * @param note  one human line, e.g. that val is the held-out last 10% of train
 */
public record Splits(TokenData train, TokenData val, String note) {
    /** Fraction of the train tokens held out as val when no val data is given. */
    public static final double HOLDOUT = 0.10;

    /**
     * Opens the train data and the val data. When {@code val} is null or blank, the LAST 10% of
     * the train tokens become val and train keeps the first 90% (taking the end keeps the two
     * disjoint and contiguous, and matches how a corpus is usually read).
     *
     * @throws DataException as {@link DataSources#open} does
     */
    public static Splits trainVal(String train, String val, int vocabSize) {
        TokenData all = DataSources.open(train, vocabSize);
        if (val == null || val.isBlank()) {
            long n = all.size();
            long cut = n - (long) Math.floor(n * HOLDOUT);
            return new Splits(new RangeTokens(all, 0, cut), new RangeTokens(all, cut, n),
                    "no val data given: holding out the last 10% of " + train + " ("
                            + (n - cut) + " of " + n + " tokens) as val");
        }
        TokenData v = DataSources.open(val, vocabSize);
        return new Splits(all, v, "train " + train + " (" + all.size() + " tokens), val "
                + val + " (" + v.size() + " tokens)");
    }
}
