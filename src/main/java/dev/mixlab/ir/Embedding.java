package dev.mixlab.ir;

import java.util.List;

/** Row gather: {@code (table[V,D], ids[...] i32) -> [...,D]}. */
public record Embedding() implements Op {
    public String name() {
        return "embedding";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0);
        Op.ints(this, in, 1);
        if (in.get(0).shape().rank() != 2) throw Op.mismatch(this, in, "table must be [V,D]");
        return List.of(TensorType.f32(in.get(1).shape().append(in.get(0).shape().dim(1))));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }
}
