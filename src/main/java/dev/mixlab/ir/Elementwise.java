package dev.mixlab.ir;

import java.util.List;

/** The shape rule shared by the broadcasting binary ops. */
final class Elementwise {
    private Elementwise() {}

    static List<TensorType> binary(Op op, List<TensorType> in) {
        Op.arity(op, in, 2);
        Op.floats(op, in, 0, 1);
        if (!in.get(0).shape().endsWith(in.get(1).shape())) {
            throw Op.mismatch(op, in, "shape of b must equal a trailing part of a's shape");
        }
        return List.of(in.get(0));
    }
}
