package dev.mixlab.ir;

import java.util.List;

/** Shape checks shared by the normalisation ops. */
final class Norms {
    private Norms() {}

    /** Inputs from {@code first} on must be vectors of x's last dimension. */
    static void checkParams(Op op, List<TensorType> in, int first) {
        Op.floats(op, in, 0);
        Shape x = in.get(0).shape();
        if (x.rank() < 1) throw Op.mismatch(op, in, "x must have rank >= 1");
        for (int i = first; i < in.size(); i++) {
            if (!in.get(i).shape().equals(Shape.of(x.last()))) {
                throw Op.mismatch(op, in, "input " + i + " must be [" + x.last() + "]");
            }
        }
    }
}
