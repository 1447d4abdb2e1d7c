package dev.mixlab.ir;

import java.util.List;

/**
 * Mamba-2's state-space duality scan (Dao and Gu, "Transformers are SSMs"), per sequence and head:
 * {@code (x[B,T,H,P], a[B,T,H], Bm[B,T,G,N], C[B,T,G,N]) -> y[B,T,H,P]}, head h reading group
 * {@code h / (H/G)} of Bm and C, with a state {@code h[P,N]} starting at zero:
 * <pre>
 *   h_t = e^{a_t}·h_{t-1} + x_t·Bm_tᵀ
 *   y_t = h_t·C_t
 * </pre>
 * In Mamba-2 {@code a = Δ·A} and x is already scaled by Δ; the skip {@code D·x} and the gate are
 * separate ops. The reference kernel runs the recurrence token by token; the CPU kernel the chunked
 * (SSD) form; the CUDA kernel a per-(sequence, head) scan inside one launch.
 *
 * <p>With {@code cached} (incremental decoding) the op takes {@code state[B,H,P,N]} (read as zero
 * when {@code pos == 0}) and {@code pos} (i32 scalar), starts from it, and has a second output: the
 * final state, written in place of {@code state}.
 */
public record SsdScan(boolean cached) implements Op {
    public String name() {
        return cached ? "ssd_scan_cached" : "ssd_scan";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, cached ? 6 : 4);
        Op.floats(this, in, 0, 1, 2, 3);
        Shape x = in.get(0).shape(), bm = in.get(2).shape();
        if (x.rank() != 4) throw Op.mismatch(this, in, "x must be [B,T,H,P]");
        if (!in.get(1).shape().equals(Shape.of(x.dim(0), x.dim(1), x.dim(2)))) throw Op.mismatch(this, in, "a must be [B,T,H]");
        if (bm.rank() != 4 || bm.dim(0) != x.dim(0) || bm.dim(1) != x.dim(1) || x.dim(2) % bm.dim(2) != 0
                || !in.get(3).shape().equals(bm)) {
            throw Op.mismatch(this, in, "Bm and C must be [B,T,G,N] with G dividing H");
        }
        if (!cached) return List.of(in.get(0));
        Op.floats(this, in, 4);
        Op.ints(this, in, 5);
        Op.scalar(this, in, 5);
        if (!in.get(4).shape().equals(Shape.of(x.dim(0), x.dim(2), x.dim(3), bm.dim(3)))) throw Op.mismatch(this, in, "state must be [B,H,P,N]");
        return List.of(in.get(0), in.get(4));
    }

    /** Per token and head: the decayed update (3·P·N) and the read (2·P·N). */
    public long flops(List<TensorType> in) {
        Shape x = in.get(0).shape();
        return x.leadingSize() * 5L * x.dim(3) * in.get(2).shape().dim(3);
    }

    public boolean differentiable() {
        return !cached;
    }

    public int[] aliases() {
        return cached ? new int[] {-1, 4} : new int[0];
    }
}
