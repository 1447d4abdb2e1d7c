package dev.mixlab.ir;

import java.util.List;

/**
 * {@code (r, k, v, w, u, dy) -> (dr, dk, dv, dw, du)} for {@link Wkv}; {@code du} is per batch row
 * {@code [B,H,dk]} (the caller sums it), so that no kernel reduces across blocks. A forward recurrence
 * gives dr; a reverse one of the adjoint state {@code D_t = diag(decay_{t+1}) D_{t+1} + r_{t+1} dy_{t+1}ᵀ}
 * gives dk and dv; the log-decay gradient is the per-channel suffix sum
 * {@code Σ_{t>s} r_t⊙dr'_t − Σ_{j≥s} k_j⊙dk'_j} of the non-bonus parts, times −exp(w_s).
 */
public record WkvGrad() implements Op {
    public String name() {
        return "wkv_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 6);
        int[] d = ScanShapes.qkv(this, in, 0);
        ScanShapes.is(this, in, 3, in.get(0).shape(), "w");
        ScanShapes.is(this, in, 4, Shape.of(d[2], d[3]), "u");
        Op.same(this, in, 2, 5);
        return List.of(in.get(0), in.get(1), in.get(2), in.get(3), TensorType.f32(d[0], d[2], d[3]));
    }

    /** Forward recurrence with dr (5), reverse with dk and dv (7), per dk·dv element; vectors 20·dk + 4·dv. */
    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return ScanShapes.steps(d) * (12L * d[3] * d[4] + 20L * d[3] + 4L * d[4]);
    }

    public boolean differentiable() {
        return false;
    }
}
