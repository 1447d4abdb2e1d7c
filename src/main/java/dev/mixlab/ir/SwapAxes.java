package dev.mixlab.ir;

import java.util.List;

/**
 * Swaps two axes {@code a < b} of x (a transpose that moves data): with x viewed as
 * {@code [outer, n_a, mid, n_b, inner]}, {@code y[o, j, m, i, c] = x[o, i, m, j, c]}. Swapping twice is
 * the identity, so the op is its own vector-Jacobian product. Used to regroup heads (differential
 * attention's two value halves next to each other).
 */
public record SwapAxes(int a, int b) implements Op {
    public SwapAxes {
        if (a < 0 || b <= a) throw new IllegalArgumentException("swap axes " + a + ", " + b + ": need 0 <= a < b");
    }

    public String name() {
        return "swap_axes";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        Shape x = in.get(0).shape();
        if (b >= x.rank()) throw Op.mismatch(this, in, "axis " + b + " beyond rank " + x.rank());
        int[] d = new int[x.rank()];
        for (int i = 0; i < d.length; i++) d[i] = x.dim(i == a ? b : i == b ? a : i);
        return List.of(TensorType.f32(Shape.of(d)));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    /** @return {outer, n_a, mid, n_b, inner} of x's shape */
    public int[] view(Shape x) {
        return new int[] {Math.toIntExact(x.slice(0, a).size()), x.dim(a), Math.toIntExact(x.slice(a + 1, b).size()), x.dim(b),
                Math.toIntExact(x.slice(b + 1, x.rank()).size())};
    }

    public String attrs() {
        return "axes=" + a + "," + b;
    }
}
