package dev.mixlab.ir;

import java.util.List;

/**
 * Gathers tokens into the grouped row buffer of {@link MoeRoute}:
 * {@code (x[N,D], slot[N,K] i32, gates[N,K]?) -> xg[rows,D]} with {@code xg[slot[n,k]] = x[n]}
 * (times {@code gates[n,k]} when given) for every kept assignment, and zero rows elsewhere. Its
 * adjoint is {@link MoeCombine} with the same slots and gates.
 */
public record MoeDispatch(int rows) implements Op {
    public String name() {
        return "moe_dispatch";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Shape x = checkSlots(this, in);
        return List.of(TensorType.f32(rows, x.dim(1)));
    }

    /** Checks {@code (a[N,D], slot[N,K], gates[N,K]?)} and returns a's shape. */
    static Shape checkSlots(Op op, List<TensorType> in) {
        if (in.size() != 2 && in.size() != 3) throw Op.mismatch(op, in, "expects rows, slots and optional gates");
        Op.floats(op, in, 0);
        Op.ints(op, in, 1);
        Shape s = in.get(1).shape();
        if (s.rank() != 2) throw Op.mismatch(op, in, "slot must be [N,K]");
        if (in.size() == 3) {
            Op.floats(op, in, 2);
            Op.same(op, in, 1, 2);
        }
        return in.get(0).shape();
    }

    public long flops(List<TensorType> in) {
        return in.size() == 3 ? in.get(1).shape().size() * in.get(0).shape().last() : 0;
    }

    public String attrs() {
        return "rows=" + rows;
    }
}
