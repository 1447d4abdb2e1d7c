package dev.mixlab.ir;

import java.util.List;

/**
 * Channels {@code start..start+len-1} of the last axis, summed over the second-to-last axis when
 * {@code rows} is 1: {@code x[..., R, n] -> y[..., rows, len]} with {@code rows} = R (a plain slice) or 1
 * ({@code y[..., 0, j] = Σ_i x[..., i, start + j]}). The adjoint of {@link PadLast}, and PadLast is its adjoint.
 */
public record SliceLast(int start, int len, int rows) implements Op {
    public String name() {
        return "slice_last";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        Shape x = in.get(0).shape();
        if (x.rank() < 2) throw Op.mismatch(this, in, "x must have rank >= 2");
        int r = x.dim(x.rank() - 2);
        if (rows != r && rows != 1) throw Op.mismatch(this, in, "rows " + rows + " must be axis -2 (" + r + ") or 1");
        if (start < 0 || len <= 0 || start + len > x.last()) {
            throw Op.mismatch(this, in, "channels " + start + ".." + (start + len) + " outside 0.." + x.last());
        }
        int[] d = x.dims();
        d[d.length - 2] = rows;
        d[d.length - 1] = len;
        return List.of(TensorType.f32(Shape.of(d)));
    }

    public long flops(List<TensorType> in) {
        Shape x = in.get(0).shape();
        return rows == 1 ? x.size() / x.last() * len : 0;
    }

    public String attrs() {
        return "start=" + start + " len=" + len + " rows=" + rows;
    }
}
