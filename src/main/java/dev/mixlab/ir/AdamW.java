package dev.mixlab.ir;

import java.util.List;

/**
 * One AdamW update in place, as {@code torch.optim.AdamW}:
 * {@code (p, g, m, v, lr, step, gscale) -> (p', m', v')} with g scaled by gscale (clipping),
 * decoupled decay {@code p -= lr·wd·p}, moments, bias correction by {@code step} (1-based), and
 * {@code p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)}.
 */
public record AdamW(double beta1, double beta2, double eps, double weightDecay) implements Op {
    public String name() {
        return "adamw";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 7);
        Op.floats(this, in, 0, 1, 2, 3, 4, 5, 6);
        Op.same(this, in, 0, 1);
        Op.same(this, in, 0, 2);
        Op.same(this, in, 0, 3);
        for (int i = 4; i < 7; i++) Op.scalar(this, in, i);
        return List.of(in.get(0), in.get(2), in.get(3));
    }

    public long flops(List<TensorType> in) {
        return 12 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0, 2, 3};
    }

    public String attrs() {
        return "b1=" + beta1 + " b2=" + beta2 + " eps=" + eps + " wd=" + weightDecay;
    }
}
