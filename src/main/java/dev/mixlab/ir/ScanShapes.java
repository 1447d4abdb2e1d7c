package dev.mixlab.ir;

import java.util.List;

/** Shape checks shared by the recurrent scan ops ({@link Retention}, {@link Mlstm} and their gradients). */
final class ScanShapes {
    private ScanShapes() {}

    /** Checks {@code q,k [B,T,H,dk]} and {@code v [B,T,H,dv]} at inputs 0..2 and returns {B,T,H,dk,dv}. */
    static int[] qkv(Op op, List<TensorType> in, int heads) {
        Op.floats(op, in, 0, 1, 2);
        Shape q = in.get(0).shape(), k = in.get(1).shape(), v = in.get(2).shape();
        if (q.rank() != 4 || !q.equals(k) || v.rank() != 4 || v.dim(0) != q.dim(0) || v.dim(1) != q.dim(1) || v.dim(2) != q.dim(2)) {
            throw Op.mismatch(op, in, "q and k must be [B,T,H,dk] and v [B,T,H,dv]");
        }
        if (heads > 0 && q.dim(2) != heads) throw Op.mismatch(op, in, "expects " + heads + " heads");
        return new int[] {q.dim(0), q.dim(1), q.dim(2), q.dim(3), v.dim(3)};
    }

    /** Checks that input {@code i} is a float tensor of shape {@code s}. */
    static void is(Op op, List<TensorType> in, int i, Shape s, String what) {
        Op.floats(op, in, i);
        if (!in.get(i).shape().equals(s)) throw Op.mismatch(op, in, what + " must be " + s);
    }

    /** Checks that input {@code i} is an i32 scalar (the decode position). */
    static void position(Op op, List<TensorType> in, int i) {
        Op.ints(op, in, i);
        Op.scalar(op, in, i);
    }

    /** B·T·H, the number of (batch, time, head) steps of a scan. */
    static long steps(int[] d) {
        return (long) d[0] * d[1] * d[2];
    }
}
