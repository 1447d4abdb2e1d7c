package dev.mixlab.ir;

import java.util.List;

/**
 * Retention (RetNet, Sun et al. 2023), one fixed decay per head: {@code (q[B,T,H,dk], k[B,T,H,dk],
 * v[B,T,H,dv]) -> y[B,T,H,dv]} with {@code y_t = Σ_{j≤t} γ_h^(t−j) (q_t·k_j) v_j}, the recurrence
 * {@code S_t = γ_h S_{t−1} + k_t v_tᵀ, y_t = S_tᵀ q_t} from {@code S_0 = 0}.
 *
 * <p>{@code stateful} is the decoding form: two more inputs {@code state[B,H,dk,dv]} (a state tensor)
 * and {@code pos} (i32 scalar); the scan starts from the state (from zero when {@code pos == 0}, a new
 * sequence) and the second output is the final state, written in place.
 *
 * <p>FLOPs count the recurrent form: 5·dk·dv per (batch, step, head).
 */
public record Retention(List<Double> gammas, boolean stateful) implements Op {
    public Retention {
        gammas = List.copyOf(gammas);
        for (double g : gammas) if (!(g > 0 && g <= 1)) throw new IllegalArgumentException("retention decay " + g + " not in (0, 1]");
    }

    /** The training form (no state). */
    public Retention(List<Double> gammas) {
        this(gammas, false);
    }

    /** RetNet's decays γ_h = 1 − 2^(−5−h), h = 0..heads−1. */
    public static List<Double> retnetGammas(int heads) {
        Double[] g = new Double[heads];
        for (int h = 0; h < heads; h++) g[h] = 1 - Math.pow(2, -5 - h);
        return List.of(g);
    }

    public String name() {
        return stateful ? "retention_step" : "retention";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, stateful ? 5 : 3);
        int[] d = ScanShapes.qkv(this, in, gammas.size());
        if (!stateful) return List.of(in.get(2));
        ScanShapes.is(this, in, 3, Shape.of(d[0], d[2], d[3], d[4]), "state");
        ScanShapes.position(this, in, 4);
        return List.of(in.get(2), in.get(3));
    }

    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return 5 * ScanShapes.steps(d) * d[3] * d[4];
    }

    public boolean differentiable() {
        return !stateful;
    }

    public int[] aliases() {
        return stateful ? new int[] {-1, 3} : new int[0];
    }

    public String attrs() {
        StringBuilder s = new StringBuilder("gammas=[");
        for (int i = 0; i < gammas.size(); i++) s.append(i > 0 ? "," : "").append((float) (double) gammas.get(i));
        return s.append(']').toString();
    }
}
