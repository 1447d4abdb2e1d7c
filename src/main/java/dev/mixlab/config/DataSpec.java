package dev.mixlab.config;

/**
 * JSON section {@code data}: where training and validation tokens come from.
 *
 * @param train          file or glob of training data, or null when given elsewhere (e.g. on the command line)
 * @param val            file or glob of validation data, or null
 * @param tokenizerModel SentencePiece {@code .model} the data was tokenized with (validation then
 *                       reports {@code val_bpb}), or null
 */
public record DataSpec(String train, String val, String tokenizerModel) {
    /** No data paths. */
    public static final DataSpec EMPTY = new DataSpec(null, null, null);

    public DataSpec(String train, String val) {
        this(train, val, null);
    }
}
