package dev.mixlab.ir;

import java.util.List;

/** The gradient of {@link CausalConv}: {@code (x[B,T,C], w[C,K], dy[B,T,C]) -> (dx, dw)}. */
public record CausalConvGrad() implements Op {
    public String name() {
        return "causal_conv_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1, 2);
        Op.same(this, in, 0, 2);
        new CausalConv(false).infer(in.subList(0, 2));
        return List.of(in.get(0), in.get(1));
    }

    public long flops(List<TensorType> in) {
        return 4 * in.get(0).shape().size() * in.get(1).shape().dim(1);
    }

    public boolean differentiable() {
        return false;
    }
}
