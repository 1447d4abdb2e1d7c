package dev.mixlab.data;

import java.nio.file.Path;

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
     * <p>When {@code train} is a directory written by {@code mixlab prepare} (it holds a
     * manifest.json), its vocabulary is checked against {@code vocabSize} first, then its train
     * shards are read, and its val shards unless {@code val} is given.
     *
     * @throws DataException as {@link DataSources#open} does
     */
    public static Splits trainVal(String train, String val, int vocabSize) {
        if (PreparedData.isPrepared(train)) {
            return prepared(train, val, vocabSize);
        }
        TokenData all = DataSources.open(train, vocabSize);
        if (val == null || val.isBlank()) {
            long n = all.size();
            long cut = n - (long) Math.floor(n * HOLDOUT);
            return new Splits(new RangeTokens(all, 0, cut), new RangeTokens(all, cut, n),
                    "no val data given: holding out the last 10% of " + train + " ("
                            + (n - cut) + " of " + n + " tokens) as val");
        }
        TokenData v = openVal(val, vocabSize);
        return new Splits(all, v, "train " + train + " (" + all.size() + " tokens), val "
                + val + " (" + v.size() + " tokens)");
    }

    // Val data; a prepared directory gives its val split (DataSources.open would give its train split).
    private static TokenData openVal(String val, int vocabSize) {
        if (!PreparedData.isPrepared(val)) {
            return DataSources.open(val, vocabSize);
        }
        TokenData v = PreparedData.read(Path.of(val)).val(vocabSize);
        if (v == null) {
            throw new DataException(Path.of(val, PreparedData.MANIFEST).toString(), "lists no val shards",
                    "give other val data, or prepare with --val-fraction above 0");
        }
        return v;
    }

    private static Splits prepared(String train, String val, int vocabSize) {
        PreparedData d = PreparedData.read(Path.of(train));
        d.checkVocab(vocabSize); // before anything is mapped: the mismatch is the clearer message
        TokenData t = d.train(vocabSize);
        if (val != null && !val.isBlank()) {
            TokenData v = openVal(val, vocabSize);
            return new Splits(t, v, "prepared " + train + " (" + d.tokenizerKind() + " tokenizer, vocab "
                    + d.vocabSize() + "), val " + val);
        }
        TokenData v = d.val(vocabSize);
        String kind = d.tokenizerKind() + " tokenizer, vocab " + d.vocabSize();
        if (v == null) {
            long n = t.size();
            long cut = n - (long) Math.floor(n * HOLDOUT);
            return new Splits(new RangeTokens(t, 0, cut), new RangeTokens(t, cut, n), "prepared " + train
                    + " (" + kind + ") has no val split: holding out the last 10% of train as val");
        }
        return new Splits(t, v, "prepared " + train + " (" + kind + ", its train and val splits)");
    }
}
