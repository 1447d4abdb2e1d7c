package dev.mixlab.ir;

import java.util.List;

/**
 * The gate gradient of {@link MoeCombine} and {@link MoeDispatch}:
 * {@code (a[N,D], g[R,D], slot[N,K] i32) -> [N,K]} with {@code out[n,k] = a[n]·g[slot[n,k]]},
 * 0 for a dropped assignment.
 */
public record MoeRowDot() implements Op {
    public String name() {
        return "moe_row_dot";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1);
        Op.ints(this, in, 2);
        Shape a = in.get(0).shape(), g = in.get(1).shape(), s = in.get(2).shape();
        if (a.rank() != 2 || g.rank() != 2 || a.dim(1) != g.dim(1) || s.rank() != 2 || s.dim(0) != a.dim(0)) {
            throw Op.mismatch(this, in, "expects a[N,D], g[R,D], slot[N,K]");
        }
        return List.of(TensorType.f32(s));
    }

    public long flops(List<TensorType> in) {
        return 2 * in.get(2).shape().size() * in.get(0).shape().last();
    }

    public boolean differentiable() {
        return false;
    }
}
