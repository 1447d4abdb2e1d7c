package dev.mixlab.ir;

import java.util.List;

/** Shape rule and FLOP count shared by attention and its gradient. */
final class AttentionShapes {
    private AttentionShapes() {}

    static void check(Op op, List<TensorType> in, int heads, int kvHeads) {
        Op.floats(op, in, 0, 1, 2);
        Shape q = in.get(0).shape(), k = in.get(1).shape(), v = in.get(2).shape();
        if (q.rank() != 4 || q.dim(2) != heads) throw Op.mismatch(op, in, "q must be [B,T," + heads + ",hd]");
        if (heads % kvHeads != 0) throw Op.mismatch(op, in, "heads " + heads + " not a multiple of kv heads " + kvHeads);
        Shape kv = Shape.of(q.dim(0), q.dim(1), kvHeads, q.dim(3));
        if (!k.equals(kv) || !v.equals(kv)) throw Op.mismatch(op, in, "k and v must be " + kv);
    }

    /** {@code factor} × (QKᵀ and PV over the causal triangle) + softmax. */
    static long flops(Shape q, double factor) {
        long b = q.dim(0), t = q.dim(1), h = q.dim(2), hd = q.dim(3);
        long pairs = t * (t + 1) / 2;
        return (long) (factor * (4 * b * h * pairs * hd + 5 * b * h * pairs));
    }
}
