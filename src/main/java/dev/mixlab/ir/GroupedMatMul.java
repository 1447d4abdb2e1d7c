package dev.mixlab.ir;

import java.util.List;

/**
 * One matrix product per expert over its rows of a grouped buffer (see {@link MoeRoute}):
 * {@code (x[R,In], w[E,..], offsets[E+1] i32) -> y[R,Out]} where rows
 * {@code offsets[e] .. offsets[e+1]-1} use expert e's matrix: {@code y = x·W_eᵀ} with W stored
 * {@code [E,Out,In]} ({@code transB}, a linear layer per expert) or {@code y = x·W_e} with
 * {@code [E,In,Out]}. Rows from {@code offsets[E]} on are zero and cost nothing: only routed rows
 * are multiplied. FLOPs are counted for a full buffer (the static worst case).
 */
public record GroupedMatMul(boolean transB) implements Op {
    public String name() {
        return "grouped_matmul";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1);
        Op.ints(this, in, 2);
        Shape x = in.get(0).shape(), w = in.get(1).shape(), o = in.get(2).shape();
        if (x.rank() != 2 || w.rank() != 3 || !o.equals(Shape.of(w.dim(0) + 1))) {
            throw Op.mismatch(this, in, "expects x[R,In], w[E,..,..], offsets[E+1]");
        }
        int k = transB ? w.dim(2) : w.dim(1), n = transB ? w.dim(1) : w.dim(2);
        if (k != x.dim(1)) throw Op.mismatch(this, in, "inner dimensions differ: " + x.dim(1) + " vs " + k);
        return List.of(TensorType.f32(x.dim(0), n));
    }

    public long flops(List<TensorType> in) {
        Shape w = in.get(1).shape();
        return 2L * in.get(0).shape().dim(0) * w.dim(1) * w.dim(2);
    }

    public String attrs() {
        return transB ? "transB" : "";
    }
}
