package dev.mixlab.ir;

import java.util.List;

/**
 * SGD with momentum in place, as {@code torch.optim.SGD} (dampening 0, coupled weight decay):
 * {@code (p, g, buf, lr, gscale) -> (p', buf')}, {@code g' = g·gscale + wd·p; buf = μ·buf + g'; p -= lr·buf}.
 */
public record Sgd(double momentum, double weightDecay) implements Op {
    public String name() {
        return "sgd";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 5);
        Op.floats(this, in, 0, 1, 2, 3, 4);
        Op.same(this, in, 0, 1);
        Op.same(this, in, 0, 2);
        Op.scalar(this, in, 3);
        Op.scalar(this, in, 4);
        return List.of(in.get(0), in.get(2));
    }

    public long flops(List<TensorType> in) {
        return 6 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0, 2};
    }

    public String attrs() {
        return "momentum=" + momentum + " wd=" + weightDecay;
    }
}
