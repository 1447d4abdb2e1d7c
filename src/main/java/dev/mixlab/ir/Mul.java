package dev.mixlab.ir;

import java.util.List;

/** Elementwise {@code a * b}; b may have a suffix of a's shape and is broadcast over the leading dims. */
public record Mul() implements Op {
    public String name() {
        return "mul";
    }

    public List<TensorType> infer(List<TensorType> in) {
        return Elementwise.binary(this, in);
    }

    public long flops(List<TensorType> in) {
        return in.get(0).shape().size();
    }
}
