package dev.mixlab.ir;

import java.util.List;

/** RMS normalisation over the last dim: {@code (x, [w]) -> x/sqrt(mean(x²)+eps)·w}. */
public record RmsNorm(double eps, boolean weight) implements Op {
    public String name() {
        return "rmsnorm";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, weight ? 2 : 1);
        Norms.checkParams(this, in, 1);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 5 * in.get(0).shape().size();
    }

    public String attrs() {
        return "eps=" + eps + (weight ? "" : " noweight");
    }
}
