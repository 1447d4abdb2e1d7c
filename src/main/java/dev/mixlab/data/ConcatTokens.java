package dev.mixlab.data;

import java.util.Arrays;
import java.util.List;

/** Several token sources back to back, in the given order (e.g. glob matches sorted by name). */
public final class ConcatTokens implements TokenData {
    private final String label;
    private final TokenData[] parts;
    private final long[] starts; // starts[k] = first global index of parts[k]; starts[n] = size

    /**
     * @param label  what {@link #describe()} returns, usually the glob
     * @param parts  the sources, at least one
     */
    public ConcatTokens(String label, List<? extends TokenData> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no parts to concatenate for " + label);
        }
        this.label = label;
        this.parts = parts.toArray(new TokenData[0]);
        this.starts = new long[this.parts.length + 1];
        for (int k = 0; k < this.parts.length; k++) {
            starts[k + 1] = starts[k] + this.parts[k].size();
        }
    }

    /** The parts, in order. */
    public List<TokenData> parts() {
        return List.of(parts);
    }

    // Index of the part holding global index i (the last part starting at or before i that is
    // non-empty; empty parts share their start with the next one).
    private int partOf(long i) {
        int k = Arrays.binarySearch(starts, i);
        if (k >= 0) {
            while (k < parts.length && starts[k + 1] == i) {
                k++; // skip empty parts
            }
            return k;
        }
        return -k - 2;
    }

    @Override
    public long size() {
        return starts[parts.length];
    }

    @Override
    public int get(long i) {
        if (i < 0 || i >= size()) {
            throw new IndexOutOfBoundsException(i + " outside [0, " + size() + ") of " + label);
        }
        int k = partOf(i);
        return parts[k].get(i - starts[k]);
    }

    @Override
    public void copy(long from, int[] dst, int dstOff, int len) {
        if (from < 0 || len < 0 || from + len > size()) {
            throw new IndexOutOfBoundsException("tokens [" + from + ", " + (from + len)
                    + ") outside [0, " + size() + ") of " + label);
        }
        while (len > 0) {
            int k = partOf(from);
            int n = (int) Math.min(len, starts[k + 1] - from);
            parts[k].copy(from - starts[k], dst, dstOff, n);
            from += n;
            dstOff += n;
            len -= n;
        }
    }

    @Override
    public String describe() {
        return label;
    }

    @Override
    public String toString() {
        return label + " (" + parts.length + " files, " + size() + " tokens)";
    }
}
