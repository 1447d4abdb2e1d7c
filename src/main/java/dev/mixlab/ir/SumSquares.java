package dev.mixlab.ir;

import java.util.List;

/** {@code x -> Σ x²} as a scalar. */
public record SumSquares() implements Op {
    public String name() {
        return "sum_squares";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        return List.of(TensorType.f32(Shape.SCALAR));
    }

    public long flops(List<TensorType> in) {
        return 2 * in.get(0).shape().size();
    }
}
