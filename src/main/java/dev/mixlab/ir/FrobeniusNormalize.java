package dev.mixlab.ir;

import java.util.List;

/**
 * {@code x -> x / (sqrt(Σ x²) + eps)}: scales a matrix to Frobenius norm just under 1, the
 * normalisation before Muon's Newton–Schulz iteration. The sum runs in double on every backend.
 */
public record FrobeniusNormalize(double eps) implements Op {
    public String name() {
        return "frobenius_normalize";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.floats(this, in, 0);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 3 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "eps=" + eps;
    }
}
