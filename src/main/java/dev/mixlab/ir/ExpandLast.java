package dev.mixlab.ir;

import java.util.List;

/**
 * Repeats every element over a new trailing dimension: {@code x[..., k] -> [..., k, n]} with
 * {@code y[..., i, j] = x[..., i]}. With {@link Mul}'s suffix broadcasting this scales each row of a
 * tensor by its own factor (e.g. a per-head gain {@code [H]} over {@code q[B,T,H,hd]}). The adjoint
 * is {@link SumLast}.
 */
public record ExpandLast(int n) implements Op {
    public String name() {
        return "expand_last";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        if (n <= 0) throw Op.mismatch(this, in, "repeat count " + n + " must be > 0");
        return List.of(TensorType.f32(in.get(0).shape().append(n)));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public String attrs() {
        return "n=" + n;
    }
}
