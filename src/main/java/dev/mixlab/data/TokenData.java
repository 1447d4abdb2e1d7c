package dev.mixlab.data;

/**
 * Random access to a sequence of token ids, indexed by {@code long} because shards and their
 * concatenations may exceed 2^31 tokens.
 */
public interface TokenData {
    /** Number of tokens. */
    long size();

    /** Token at index {@code i}, {@code 0 <= i < size()}; ids are non-negative. */
    int get(long i);

    /**
     * Short human label that starts with the file path (or glob) the tokens come from, e.g.
     * {@code data/train.bin} or {@code data/train.bin [0, 9000)}; used at the start of error
     * messages.
     */
    String describe();

    /**
     * Copies {@code len} tokens starting at {@code from} into {@code dst[dstOff..]}.
     * Implementations override this with a bulk read; the default loops over {@link #get}.
     */
    default void copy(long from, int[] dst, int dstOff, int len) {
        if (from < 0 || len < 0 || from + len > size()) {
            throw new IndexOutOfBoundsException("tokens [" + from + ", " + (from + len)
                    + ") outside [0, " + size() + ") of " + describe());
        }
        for (int k = 0; k < len; k++) {
            dst[dstOff + k] = get(from + k);
        }
    }
}
