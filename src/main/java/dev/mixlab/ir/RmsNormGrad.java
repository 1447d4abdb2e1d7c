package dev.mixlab.ir;

import java.util.ArrayList;
import java.util.List;

/** {@code (x, [w], dy) -> (dx, [dw])}. */
public record RmsNormGrad(double eps, boolean weight) implements Op {
    public String name() {
        return "rmsnorm_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, weight ? 3 : 2);
        Norms.checkParams(this, in.subList(0, in.size() - 1), 1);
        Op.same(this, in, 0, in.size() - 1);
        List<TensorType> out = new ArrayList<>();
        out.add(in.get(0));
        if (weight) out.add(TensorType.f32(in.get(0).shape().last()));
        return out;
    }

    public long flops(List<TensorType> in) {
        return 10 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "eps=" + eps + (weight ? "" : " noweight");
    }
}
