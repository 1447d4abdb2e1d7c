package dev.mixlab.ir;

import java.util.List;

/** {@code (logits, targets, dloss) -> dlogits = (softmax(logits) - onehot)·dloss/N}. */
public record CrossEntropyGrad() implements Op {
    public String name() {
        return "cross_entropy_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        new CrossEntropy().infer(in.subList(0, 2));
        Op.scalar(this, in, 2);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 6 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }
}
