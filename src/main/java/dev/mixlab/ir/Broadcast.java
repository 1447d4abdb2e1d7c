package dev.mixlab.ir;

import java.util.List;

/** Repeats x over new leading dimensions: {@code x[s] -> [lead..., s]} where {@code shape} ends with s. */
public record Broadcast(Shape shape) implements Op {
    public String name() {
        return "broadcast";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        if (!shape.endsWith(in.get(0).shape())) throw Op.mismatch(this, in, "target " + shape + " must end with x's shape");
        return List.of(TensorType.f32(shape));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public String attrs() {
        return "shape=" + shape;
    }
}
