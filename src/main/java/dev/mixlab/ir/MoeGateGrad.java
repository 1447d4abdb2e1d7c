package dev.mixlab.ir;

import java.util.List;

/**
 * Vector-Jacobian product of {@link MoeGate}: {@code (logits, sel?, dgates) -> dlogits[N,E]},
 * zero for experts a token did not select. With g = a/Σa over the selection and
 * c = dg_k − Σ_j dg_j·g_j: dlogit_k = g_k·c (softmax) or c·σ_k(1−σ_k)/Σσ (sigmoid).
 */
public record MoeGateGrad(int experts, boolean sigmoid) implements Op {
    public String name() {
        return "moe_gate_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        if (in.size() != 2 && in.size() != 3) throw Op.mismatch(this, in, "expects logits, optional sel and dgates");
        Shape g = MoeGate.check(this, experts, in, in.size() == 3);
        Op.floats(this, in, in.size() - 1);
        if (!in.get(in.size() - 1).shape().equals(g)) throw Op.mismatch(this, in, "dgates must be " + g);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 8 * in.get(in.size() - 1).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return sigmoid ? "sigmoid" : "softmax";
    }
}
