package dev.mixlab.ir;

import java.util.List;

/**
 * The gradient of {@link GatedDeltaScan}: {@code (q, k, v, g, beta, do) -> (dq, dk, dv, dg, dbeta)}, by
 * the reverse recurrence with the states recomputed chunk by chunk from checkpoints.
 */
public record GatedDeltaScanGrad() implements Op {
    public String name() {
        return "gated_delta_scan_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 6);
        new GatedDeltaScan(false).infer(in.subList(0, 5));
        Op.floats(this, in, 5);
        Op.same(this, in, 2, 5);
        return List.of(in.get(0), in.get(1), in.get(2), in.get(3), in.get(4));
    }

    /** The forward recomputed twice, and the reverse step (about twice the forward). */
    public long flops(List<TensorType> in) {
        return 4 * new GatedDeltaScan(false).flops(in);
    }

    public boolean differentiable() {
        return false;
    }
}
