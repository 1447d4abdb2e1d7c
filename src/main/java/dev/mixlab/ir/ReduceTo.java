package dev.mixlab.ir;

import java.util.List;

/** Sums x over its leading dimensions down to {@code shape}, a suffix of x's shape (the adjoint of Broadcast). */
public record ReduceTo(Shape shape) implements Op {
    public String name() {
        return "reduce_to";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        if (!in.get(0).shape().endsWith(shape)) throw Op.mismatch(this, in, "x's shape must end with " + shape);
        return List.of(TensorType.f32(shape));
    }

    public long flops(List<TensorType> in) {
        return in.get(0).shape().size();
    }

    public String attrs() {
        return "shape=" + shape;
    }
}
