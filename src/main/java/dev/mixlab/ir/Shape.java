package dev.mixlab.ir;

import java.util.Arrays;

/** A static shape: a list of non-negative dimensions. Rank 0 is a scalar of one element. */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
        return new Shape(dims.clone());
    }

    public static final Shape SCALAR = new Shape(new int[0]);

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements (1 for a scalar). */
    public long size() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Elements as an int; the engine's buffers are int-indexed. */
    public int intSize() {
        return Math.toIntExact(size());
    }

    /** Product of all dimensions but the last (the "rows" when the last dim is contiguous). */
    public long leadingSize() {
        long n = 1;
        for (int i = 0; i < dims.length - 1; i++) n *= dims[i];
        return n;
    }

    public int last() {
        return dims[dims.length - 1];
    }

    /** True when {@code suffix} equals the trailing dimensions of this shape. */
    public boolean endsWith(Shape suffix) {
        if (suffix.rank() > rank()) return false;
        int off = rank() - suffix.rank();
        for (int i = 0; i < suffix.rank(); i++) if (dims[off + i] != suffix.dims[i]) return false;
        return true;
    }

    /** This shape with the last dimension replaced. */
    public Shape withLast(int d) {
        int[] n = dims.clone();
        n[n.length - 1] = d;
        return new Shape(n);
    }

    /** This shape with {@code extra} dimensions appended. */
    public Shape append(int... extra) {
        int[] n = Arrays.copyOf(dims, dims.length + extra.length);
        System.arraycopy(extra, 0, n, dims.length, extra.length);
        return new Shape(n);
    }

    /** Dimensions {@code [from, to)}. */
    public Shape slice(int from, int to) {
        return new Shape(Arrays.copyOfRange(dims, from, to));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(dims[i]);
        }
        return sb.append(']').toString();
    }
}
