package dev.mixlab.ir;

import java.util.List;

/**
 * {@code (q, k, v, dy) -> (dq, dk, dv)} for {@link Retention}: a forward recurrence for dq and a
 * reverse one ({@code D_t = γ D_{t+1} + q_t dy_tᵀ}) for dk and dv; nothing is stored between them.
 */
public record RetentionGrad(List<Double> gammas) implements Op {
    public RetentionGrad {
        gammas = List.copyOf(gammas);
    }

    public String name() {
        return "retention_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 4);
        ScanShapes.qkv(this, in, gammas.size());
        Op.same(this, in, 2, 3);
        return List.of(in.get(0), in.get(1), in.get(2));
    }

    /** Forward recurrence with dq (5), reverse recurrence with dk and dv (7), per dk·dv element. */
    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return 12 * ScanShapes.steps(d) * d[3] * d[4];
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return new Retention(gammas).attrs();
    }
}
