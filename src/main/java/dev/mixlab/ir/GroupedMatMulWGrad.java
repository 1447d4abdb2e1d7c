package dev.mixlab.ir;

import java.util.List;

/**
 * The weight gradient of {@link GroupedMatMul}: {@code (x[R,In], dy[R,Out], offsets[E+1] i32) -> dW}
 * with {@code dW_e = Σ_{r in e} dy_rᵀ·x_r} stored {@code [E,Out,In]} ({@code transB}) or
 * {@code Σ x_rᵀ·dy_r} stored {@code [E,In,Out]}; an expert without rows gets zeros.
 */
public record GroupedMatMulWGrad(boolean transB) implements Op {
    public String name() {
        return "grouped_matmul_wgrad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1);
        Op.ints(this, in, 2);
        Shape x = in.get(0).shape(), dy = in.get(1).shape(), o = in.get(2).shape();
        if (x.rank() != 2 || dy.rank() != 2 || x.dim(0) != dy.dim(0) || o.rank() != 1 || o.dim(0) < 2) {
            throw Op.mismatch(this, in, "expects x[R,In], dy[R,Out], offsets[E+1]");
        }
        int e = o.dim(0) - 1;
        return List.of(transB ? TensorType.f32(e, dy.dim(1), x.dim(1)) : TensorType.f32(e, x.dim(1), dy.dim(1)));
    }

    public long flops(List<TensorType> in) {
        return 2L * in.get(0).shape().dim(0) * in.get(0).shape().dim(1) * in.get(1).shape().dim(1);
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return transB ? "transB" : "";
    }
}
