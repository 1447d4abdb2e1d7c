package dev.mixlab.ir;

import java.util.List;

/**
 * RWKV-6 ("Finch", Peng et al. 2024) wkv: a per-head matrix state with a data-dependent decay per key
 * channel and a bonus for the current token: {@code (r, k [B,T,H,dk], v [B,T,H,dv], w [B,T,H,dk],
 * u [H,dk]) -> y[B,T,H,dv]} with, per head,
 * <pre>
 *   y_t = r_tᵀ (S_{t−1} + diag(u) k_t v_tᵀ),   S_t = diag(exp(−exp(w_t))) S_{t−1} + k_t v_tᵀ
 * </pre>
 * from {@code S_{−1} = 0}: {@code w} is Finch's raw decay (any real; the decay exp(−exp(w)) lies in (0, 1)).
 *
 * <p>{@code stateful} is the decoding form: two more inputs {@code state[B,H,dk,dv]} and {@code pos}
 * (i32 scalar); the scan starts from the state (from zero when {@code pos == 0}) and the second output
 * is the final state, written in place.
 *
 * <p>FLOPs count the recurrent form: 5·dk·dv + 3·dk per (batch, step, head), plus 2 per decay.
 */
public record Wkv(boolean stateful) implements Op {
    /** The training form (no state). */
    public Wkv() {
        this(false);
    }

    public String name() {
        return stateful ? "wkv_step" : "wkv";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, stateful ? 7 : 5);
        int[] d = ScanShapes.qkv(this, in, 0);
        ScanShapes.is(this, in, 3, in.get(0).shape(), "w");
        ScanShapes.is(this, in, 4, Shape.of(d[2], d[3]), "u");
        if (!stateful) return List.of(in.get(2));
        ScanShapes.is(this, in, 5, Shape.of(d[0], d[2], d[3], d[4]), "state");
        ScanShapes.position(this, in, 6);
        return List.of(in.get(2), in.get(5));
    }

    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return ScanShapes.steps(d) * (5L * d[3] * d[4] + 5L * d[3]);
    }

    public boolean differentiable() {
        return !stateful;
    }

    public int[] aliases() {
        return stateful ? new int[] {-1, 5} : new int[0];
    }
}
