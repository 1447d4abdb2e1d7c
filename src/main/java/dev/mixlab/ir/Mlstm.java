package dev.mixlab.ir;

import java.util.List;

/**
 * The matrix LSTM cell of xLSTM (Beck et al. 2024) with exponential input gate, sigmoid forget gate
 * and the stabiliser state: {@code (q, k [B,T,H,dk], v [B,T,H,dv], i, f [B,T,H]) -> h̃[B,T,H,dv]} where
 * {@code i}, {@code f} are gate pre-activations and, per head,
 * <pre>
 *   m_t = max(log σ(f_t) + m_{t−1}, i_t)
 *   i'_t = exp(i_t − m_t),  f'_t = exp(log σ(f_t) + m_{t−1} − m_t)
 *   C_t = f'_t C_{t−1} + i'_t v_t k_tᵀ,  n_t = f'_t n_{t−1} + i'_t k_t
 *   h̃_t = C_t q_t / max(|n_tᵀ q_t|, exp(−m_t))
 * </pre>
 * from {@code C_0 = 0, n_0 = 0, m_0 = 0}. The stabiliser m cancels: h̃ equals the unstabilised
 * {@code C̄_t q_t / max(|n̄_tᵀ q_t|, 1)} with {@code C̄_t = σ(f_t) C̄_{t−1} + exp(i_t) v_t k_tᵀ}, so the
 * choice of m_0 (and a chunked evaluation) does not change the result. The key scale 1/√dk is the
 * caller's. The output gate is not part of the cell.
 *
 * <p>{@code stateful} is the decoding form: two more inputs {@code state[B,H,dv·dk + dk + 1]} (C
 * row-major [dv][dk], then n, then m) and {@code pos} (i32 scalar); the scan starts from the state
 * (from zero when {@code pos == 0}) and the second output is the final state, written in place.
 */
public record Mlstm(boolean stateful) implements Op {
    /** The training form (no state). */
    public Mlstm() {
        this(false);
    }

    /** Floats of one head's decoding state: C [dv][dk], n [dk], m. */
    public static int stateSize(int dk, int dv) {
        return dv * dk + dk + 1;
    }

    public String name() {
        return stateful ? "mlstm_step" : "mlstm";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, stateful ? 7 : 5);
        int[] d = ScanShapes.qkv(this, in, 0);
        Shape gate = Shape.of(d[0], d[1], d[2]);
        ScanShapes.is(this, in, 3, gate, "input gate");
        ScanShapes.is(this, in, 4, gate, "forget gate");
        if (!stateful) return List.of(in.get(2));
        ScanShapes.is(this, in, 5, Shape.of(d[0], d[2], stateSize(d[3], d[4])), "state");
        ScanShapes.position(this, in, 6);
        return List.of(in.get(2), in.get(5));
    }

    /** Per (batch, step, head): C update and readout 5·dk·dv, n 5·dk, normaliser and division dv, gates 10. */
    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return ScanShapes.steps(d) * (5L * d[3] * d[4] + 5L * d[3] + d[4] + 10);
    }

    public boolean differentiable() {
        return !stateful;
    }

    public int[] aliases() {
        return stateful ? new int[] {-1, 5} : new int[0];
    }
}
