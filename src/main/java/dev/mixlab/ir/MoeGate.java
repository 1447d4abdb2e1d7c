package dev.mixlab.ir;

import java.util.List;

/**
 * Router weights: {@code (logits[N,E], sel[N,K] i32?) -> gates[N,K]} (or {@code [N,E]} without sel).
 * The affinity of expert e is exp(logit) ({@code sigmoid=false}) or sigmoid(logit); the gates are
 * the affinities of the selected experts normalised to sum 1 per token. With softmax this is
 * Mixtral's softmax over all experts renormalised over the top k; with sigmoid DeepSeek-V3's
 * normalised top-k sigmoid scores. Without {@code sel} every expert is selected: the router's
 * probabilities over all experts (softmax, or normalised sigmoids), as the load-balancing loss uses.
 */
public record MoeGate(int experts, boolean sigmoid) implements Op {
    public String name() {
        return "moe_gate";
    }

    public List<TensorType> infer(List<TensorType> in) {
        if (in.size() != 1 && in.size() != 2) throw Op.mismatch(this, in, "expects logits and optional selected experts");
        return List.of(TensorType.f32(check(this, experts, in, in.size() == 2)));
    }

    /** Checks logits (and sel) and returns the gates' shape. */
    static Shape check(Op op, int experts, List<TensorType> in, boolean withSel) {
        Op.floats(op, in, 0);
        Shape l = in.get(0).shape();
        if (l.rank() != 2 || l.dim(1) != experts) throw Op.mismatch(op, in, "logits must be [N," + experts + "]");
        if (!withSel) return l;
        Op.ints(op, in, 1);
        Shape s = in.get(1).shape();
        if (s.rank() != 2 || s.dim(0) != l.dim(0) || s.dim(1) > experts) throw Op.mismatch(op, in, "sel must be [N,K<=E]");
        return s;
    }

    public long flops(List<TensorType> in) {
        return 6 * in.get(in.size() - 1).shape().size();
    }

    public String attrs() {
        return sigmoid ? "sigmoid" : "softmax";
    }
}
