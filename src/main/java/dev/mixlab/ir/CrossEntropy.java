package dev.mixlab.ir;

import java.util.List;

/** Mean softmax cross-entropy in nats: {@code (logits[...,V], targets[...] i32) -> scalar}. */
public record CrossEntropy() implements Op {
    public String name() {
        return "cross_entropy";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0);
        Op.ints(this, in, 1);
        Shape l = in.get(0).shape(), t = in.get(1).shape();
        if (l.rank() != t.rank() + 1 || !l.slice(0, t.rank()).equals(t)) {
            throw Op.mismatch(this, in, "logits must be targets.shape + [V]");
        }
        return List.of(TensorType.f32(Shape.SCALAR));
    }

    public long flops(List<TensorType> in) {
        return 5 * in.get(0).shape().size();
    }
}
