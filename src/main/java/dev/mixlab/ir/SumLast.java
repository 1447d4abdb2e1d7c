package dev.mixlab.ir;

import java.util.List;

/** Sums over the last dimension: {@code x[..., n] -> [...]} (the adjoint of {@link ExpandLast}). */
public record SumLast() implements Op {
    public String name() {
        return "sum_last";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        Shape x = in.get(0).shape();
        if (x.rank() < 1) throw Op.mismatch(this, in, "x must have at least one dimension");
        return List.of(TensorType.f32(x.slice(0, x.rank() - 1)));
    }

    public long flops(List<TensorType> in) {
        return in.get(0).shape().size();
    }
}
