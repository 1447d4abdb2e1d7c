package dev.mixlab.data;

/**
 * The seed training script's loader: reads the (sorted, concatenated) shards sequentially and
 * wraps around to the first at the end. Each batch takes {@code usable + 1} tokens and splits
 * them as the Python does ({@code x = chunk[:-1]}, {@code y = chunk[1:]}). Consecutive chunks
 * are disjoint, so, as in the Python, the last target of one batch is not re-read as the first
 * input of the next.
 */
public final class TokenStream {
    private final TokenData data;
    private long pos;

    /**
     * A stream over {@code data} starting at position 0.
     *
     * @throws DataException if {@code data} is empty
     */
    public TokenStream(TokenData data) {
        if (data.size() == 0) {
            throw new DataException(data.describe(), "0 tokens", "give a non-empty data file");
        }
        this.data = data;
    }

    /** The source. */
    public TokenData data() {
        return data;
    }

    /** Copies the next {@code n} tokens into {@code out[0..n)}, wrapping around at the end. */
    public void take(int n, int[] out) {
        if (n < 0 || out.length < n) {
            throw new IllegalArgumentException("take " + n + " into " + out.length);
        }
        int done = 0;
        while (done < n) {
            int k = (int) Math.min(n - done, data.size() - pos);
            data.copy(pos, out, done, k);
            done += k;
            pos += k;
            if (pos == data.size()) {
                pos = 0;
            }
        }
    }

    /**
     * Next batch: {@code usable = batchTokens / seqLen * seqLen}; takes {@code usable + 1}
     * tokens into a chunk and sets {@code x = chunk[0..usable)}, {@code y = chunk[1..usable]}.
     *
     * @return the number of rows, {@code usable / seqLen}
     */
    public int next(int[] x, int[] y, int batchTokens, int seqLen) {
        if (seqLen <= 0 || batchTokens < seqLen) {
            throw new IllegalArgumentException("batchTokens " + batchTokens
                    + " must be at least seqLen " + seqLen + " > 0");
        }
        int rows = batchTokens / seqLen;
        int usable = rows * seqLen;
        if (x.length < usable || y.length < usable) {
            throw new IllegalArgumentException("x and y need " + usable + " elements, got "
                    + x.length + " and " + y.length);
        }
        int[] chunk = new int[usable + 1];
        take(usable + 1, chunk);
        System.arraycopy(chunk, 0, x, 0, usable);
        System.arraycopy(chunk, 1, y, 0, usable);
        return rows;
    }

    /** Position of the next token to read, in {@code [0, size)}; save it with a checkpoint. */
    public long position() {
        return pos;
    }

    /** Continues from a {@link #position()}. */
    public void restore(long position) {
        if (position < 0 || position >= data.size()) {
            throw new IllegalArgumentException("position " + position + " outside [0, "
                    + data.size() + ") of " + data.describe());
        }
        this.pos = position;
    }
}
