package dev.mixlab.ir;

import java.util.List;

/** A pointwise function. */
public record Unary(UnaryFn fn) implements Op {
    public String name() {
        return fn.jsonName();
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return fn.flops() * in.get(0).shape().size();
    }
}
