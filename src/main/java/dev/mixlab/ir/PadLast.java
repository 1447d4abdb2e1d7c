package dev.mixlab.ir;

import java.util.List;

/**
 * Places x into a zero tensor along the last axis, broadcasting a size-1 second-to-last axis:
 * {@code x[..., r, n] -> y[..., rows, total]} with {@code y[..., i, start + j] = x[..., r == 1 ? 0 : i, j]}
 * and zeros elsewhere ({@code r} is {@code rows} or 1). Two pads and an add concatenate along the last
 * axis (e.g. a per-head key part and a key part shared by all heads). The adjoint is {@link SliceLast}.
 */
public record PadLast(int start, int total, int rows) implements Op {
    public String name() {
        return "pad_last";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        Shape x = in.get(0).shape();
        if (x.rank() < 2) throw Op.mismatch(this, in, "x must have rank >= 2");
        int r = x.dim(x.rank() - 2);
        if (rows <= 0 || (r != rows && r != 1)) throw Op.mismatch(this, in, "axis -2 must be " + rows + " or 1");
        if (start < 0 || start + x.last() > total) {
            throw Op.mismatch(this, in, "channels " + start + ".." + (start + x.last()) + " exceed " + total);
        }
        int[] d = x.dims();
        d[d.length - 2] = rows;
        d[d.length - 1] = total;
        return List.of(TensorType.f32(Shape.of(d)));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public String attrs() {
        return "start=" + start + " total=" + total + " rows=" + rows;
    }
}
