package dev.mixlab.ir;

import java.util.List;

/**
 * The gated delta rule (Yang, Kautz, Hatamizadeh, "Gated Delta Networks"), per sequence and head:
 * {@code (q[B,T,H,dk], k[B,T,H,dk], v[B,T,H,dv], g[B,T,H], beta[B,T,H]) -> o[B,T,H,dv]} with a state
 * {@code S[dk,dv]} starting at zero,
 * <pre>
 *   S_t = e^{g_t}·S_{t-1} + β_t·k_t·(v_t − e^{g_t}·S_{t-1}ᵀk_t)ᵀ     (= S_{t-1}·α_t(I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ, transposed)
 *   o_t = S_tᵀ·q_t
 * </pre>
 * {@code g} is the log of the decay α (≤ 0 in the block); the caller normalises q and k and scales q.
 * The reference kernel runs this recurrence token by token; the CPU kernel the chunked (UT
 * transform) form; the CUDA kernel a per-(sequence, head) scan inside one launch.
 *
 * <p>With {@code cached} (incremental decoding) the op takes {@code state[B,H,dk,dv]} (read as zero
 * when {@code pos == 0}) and {@code pos} (i32 scalar), starts from it, and has a second output: the
 * final state, written in place of {@code state}.
 */
public record GatedDeltaScan(boolean cached) implements Op {
    public String name() {
        return cached ? "gated_delta_scan_cached" : "gated_delta_scan";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, cached ? 7 : 5);
        Op.floats(this, in, 0, 1, 2, 3, 4);
        Shape q = in.get(0).shape(), v = in.get(2).shape();
        if (q.rank() != 4 || !in.get(1).shape().equals(q)) throw Op.mismatch(this, in, "q and k must be [B,T,H,dk]");
        Shape bth = Shape.of(q.dim(0), q.dim(1), q.dim(2));
        if (v.rank() != 4 || !v.equals(bth.append(v.last()))) throw Op.mismatch(this, in, "v must be [B,T,H,dv]");
        if (!in.get(3).shape().equals(bth) || !in.get(4).shape().equals(bth)) throw Op.mismatch(this, in, "g and beta must be [B,T,H]");
        if (!cached) return List.of(in.get(2));
        Op.floats(this, in, 5);
        Op.ints(this, in, 6);
        Op.scalar(this, in, 6);
        if (!in.get(5).shape().equals(Shape.of(q.dim(0), q.dim(2), q.dim(3), v.dim(3)))) throw Op.mismatch(this, in, "state must be [B,H,dk,dv]");
        return List.of(in.get(2), in.get(5));
    }

    /** Per token and head: the decayed read Sᵀk, the rank-1 write and the read Sᵀq, each 2·dk·dv, plus the decay. */
    public long flops(List<TensorType> in) {
        Shape q = in.get(0).shape();
        return q.leadingSize() * 7L * q.dim(3) * in.get(2).shape().dim(3);
    }

    public boolean differentiable() {
        return !cached;
    }

    public int[] aliases() {
        return cached ? new int[] {-1, 5} : new int[0];
    }
}
