package dev.mixlab.ir;

import java.util.ArrayList;
import java.util.List;

/** {@code (x, [w], dy) -> (dx, [dw], [db])}; the statistics are recomputed from x (cheap, saves memory). */
public record LayerNormGrad(double eps, boolean weight, boolean bias) implements Op {
    public String name() {
        return "layernorm_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2 + (weight ? 1 : 0));
        Norms.checkParams(this, in.subList(0, in.size() - 1), 1);
        Op.same(this, in, 0, in.size() - 1);
        List<TensorType> out = new ArrayList<>();
        out.add(in.get(0));
        TensorType p = TensorType.f32(in.get(0).shape().last());
        if (weight) out.add(p);
        if (bias) out.add(p);
        return out;
    }

    public long flops(List<TensorType> in) {
        return 14 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "eps=" + eps + (weight ? "" : " noweight") + (bias ? " bias" : "");
    }
}
