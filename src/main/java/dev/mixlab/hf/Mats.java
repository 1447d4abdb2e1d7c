package dev.mixlab.hf;

import dev.mixlab.io.Tensor;
import java.util.Arrays;

/** Float32 tensors as (shape, values) and the reshuffles the maps need: transpose, row split/concat, row slice. */
record Mats(long[] shape, float[] v) {
    static Mats of(Tensor t) {
        return new Mats(t.shape(), t.floats());
    }

    Tensor tensor() {
        return Tensor.ofFloats(shape, v);
    }

    int rows() {
        return (int) shape[0];
    }

    /** Elements per row (1 for a vector). */
    int rowSize() {
        return shape.length == 1 ? 1 : v.length / rows();
    }

    /** The transpose of a matrix; a vector is returned unchanged. */
    Mats transpose() {
        if (shape.length != 2) return this;
        int r = (int) shape[0], c = (int) shape[1];
        float[] o = new float[v.length];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) o[j * r + i] = v[i * c + j];
        return new Mats(new long[] {c, r}, o);
    }

    /** Rows {@code [from, from+n)}. */
    Mats rows(int from, int n) {
        long[] s = shape.clone();
        s[0] = n;
        int w = rowSize();
        return new Mats(s, Arrays.copyOfRange(v, from * w, (from + n) * w));
    }

    /** The parts stacked along the first dimension (they agree on the others). */
    static Mats concatRows(Mats... parts) {
        long[] s = parts[0].shape.clone();
        s[0] = 0;
        int n = 0;
        for (Mats p : parts) {
            s[0] += p.shape[0];
            n += p.v.length;
        }
        float[] o = new float[n];
        int at = 0;
        for (Mats p : parts) {
            System.arraycopy(p.v, 0, o, at, p.v.length);
            at += p.v.length;
        }
        return new Mats(s, o);
    }

    static String show(long[] shape) {
        return Arrays.toString(shape);
    }
}
