package dev.mixlab.ir;

import java.util.List;

/**
 * Inverted dropout {@code (x, seed) -> x·mask/(1-p)} with the mask a hash of (seed, salt, index)
 * ({@link DropoutHash}); applying the same op to the upstream gradient is its vector-Jacobian product.
 */
public record Dropout(double p, int salt) implements Op {
    public String name() {
        return "dropout";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0);
        Op.ints(this, in, 1);
        Op.scalar(this, in, 1);
        if (!(p > 0 && p < 1)) throw Op.mismatch(this, in, "p must be in (0,1), got " + p);
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return in.get(0).shape().size();
    }

    public String attrs() {
        return "p=" + p + " salt=" + salt;
    }
}
