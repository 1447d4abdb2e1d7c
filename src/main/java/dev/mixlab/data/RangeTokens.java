package dev.mixlab.data;

/** The tokens {@code [from, to)} of another source, without copying (used for splits). */
public final class RangeTokens implements TokenData {
    private final TokenData base;
    private final long from;
    private final long to;

    /** @throws IllegalArgumentException unless {@code 0 <= from <= to <= base.size()} */
    public RangeTokens(TokenData base, long from, long to) {
        if (from < 0 || from > to || to > base.size()) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") outside [0, "
                    + base.size() + ") of " + base.describe());
        }
        this.base = base;
        this.from = from;
        this.to = to;
    }

    /** First index in the base source. */
    public long from() {
        return from;
    }

    /** End index (exclusive) in the base source. */
    public long to() {
        return to;
    }

    @Override
    public long size() {
        return to - from;
    }

    @Override
    public int get(long i) {
        if (i < 0 || i >= size()) {
            throw new IndexOutOfBoundsException(i + " outside [0, " + size() + ") of "
                    + describe());
        }
        return base.get(from + i);
    }

    @Override
    public void copy(long start, int[] dst, int dstOff, int len) {
        if (start < 0 || len < 0 || start + len > size()) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + len)
                    + ") outside [0, " + size() + ") of " + describe());
        }
        base.copy(from + start, dst, dstOff, len);
    }

    @Override
    public String describe() {
        return base.describe() + " [" + from + ", " + to + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
