package dev.mixlab.ir;

import java.util.List;

/**
 * {@code (q, k, v, i, f, h̃, dh̃) -> (dq, dk, dv, di, df)} for {@link Mlstm} ({@code h̃} is its output):
 * a forward recurrence for dq, a reverse one for the stabilised adjoint state (dk, dv, di), and the
 * forget-gate gradient as a suffix sum {@code df_t = (1−σ(f_t))·Σ_{s≥t} (q_s·dq_s − di_s)}.
 */
public record MlstmGrad() implements Op {
    public String name() {
        return "mlstm_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 7);
        int[] d = ScanShapes.qkv(this, in, 0);
        Shape gate = Shape.of(d[0], d[1], d[2]);
        ScanShapes.is(this, in, 3, gate, "input gate");
        ScanShapes.is(this, in, 4, gate, "forget gate");
        Op.same(this, in, 2, 5);
        Op.same(this, in, 2, 6);
        return List.of(in.get(0), in.get(1), in.get(2), in.get(3), in.get(4));
    }

    /** Per (batch, step, head): the two recurrences 12·dk·dv, vectors 20·dk + 6·dv, scalars 20. */
    public long flops(List<TensorType> in) {
        int[] d = ScanShapes.qkv(this, in, 0);
        return ScanShapes.steps(d) * (12L * d[3] * d[4] + 20L * d[3] + 6L * d[4] + 20);
    }

    public boolean differentiable() {
        return false;
    }
}
