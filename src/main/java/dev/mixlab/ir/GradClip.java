package dev.mixlab.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Global gradient norm over all inputs and the clipping coefficient:
 * {@code (g1..gn) -> (norm, coef)} with {@code coef = min(1, maxNorm/(norm+1e-6))}, or 1 when
 * {@code maxNorm} is 0 (as {@code torch.nn.utils.clip_grad_norm_}).
 */
public record GradClip(double maxNorm) implements Op {
    public String name() {
        return "grad_clip";
    }

    public List<TensorType> infer(List<TensorType> in) {
        if (in.isEmpty()) throw Op.mismatch(this, in, "needs at least one gradient");
        for (int i = 0; i < in.size(); i++) Op.floats(this, in, i);
        TensorType s = TensorType.f32(Shape.SCALAR);
        return List.of(s, s);
    }

    public long flops(List<TensorType> in) {
        long n = 0;
        for (TensorType t : in) n += 2 * t.shape().size();
        return n;
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "max_norm=" + maxNorm;
    }
}
