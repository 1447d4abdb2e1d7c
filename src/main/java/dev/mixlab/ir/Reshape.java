package dev.mixlab.ir;

import java.util.List;

/** A view with another shape of the same size (no data movement on contiguous buffers). */
public record Reshape(Shape shape) implements Op {
    public String name() {
        return "reshape";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        if (in.get(0).shape().size() != shape.size()) throw Op.mismatch(this, in, "cannot reshape to " + shape);
        return List.of(new TensorType(shape, in.get(0).dtype()));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public String attrs() {
        return "shape=" + shape;
    }
}
