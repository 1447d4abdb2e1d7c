package dev.mixlab.ir;

import java.util.List;

/** Multiplication by a constant. */
public record Scale(double factor) implements Op {
    public String name() {
        return "scale";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return in.get(0).shape().size();
    }

    public String attrs() {
        return "factor=" + factor;
    }
}
