package dev.mixlab.ir;

import java.util.List;

/** Layer normalisation over the last dim: {@code (x, [w], [b]) -> (x-mean)/sqrt(var+eps)·w + b}, biased variance. */
public record LayerNorm(double eps, boolean weight, boolean bias) implements Op {
    public String name() {
        return "layernorm";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1 + (weight ? 1 : 0) + (bias ? 1 : 0));
        Norms.checkParams(this, in, 1);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 8 * in.get(0).shape().size();
    }

    public String attrs() {
        return "eps=" + eps + (weight ? "" : " noweight") + (bias ? " bias" : "");
    }
}
