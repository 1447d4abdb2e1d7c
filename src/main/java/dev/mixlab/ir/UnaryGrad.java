package dev.mixlab.ir;

import java.util.List;

/** {@code (x, dy) -> dy · f'(x)}. */
public record UnaryGrad(UnaryFn fn) implements Op {
    public String name() {
        return fn.jsonName() + "_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0, 1);
        Op.same(this, in, 0, 1);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return (fn.flops() + 2L) * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }
}
