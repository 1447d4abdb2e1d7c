package dev.mixlab.ir;

import java.util.List;

/**
 * A plain descent step in place, the end of a Muon step: {@code (p, u, lr) -> p'} with
 * {@code p' = p·(1 - lr·wd) - lr·scale·u} ({@code scale} is Muon's aspect factor
 * {@code sqrt(max(1, rows/cols))}; wd is decoupled weight decay, 0 in the seed).
 */
public record Descend(double scale, double weightDecay) implements Op {
    public String name() {
        return "descend";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1, 2);
        Op.same(this, in, 0, 1);
        Op.scalar(this, in, 2);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 4 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0};
    }

    public String attrs() {
        return "scale=" + scale + " wd=" + weightDecay;
    }
}
