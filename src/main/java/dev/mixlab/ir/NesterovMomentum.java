package dev.mixlab.ir;

import java.util.List;

/**
 * Momentum with Nesterov look-ahead, the first half of a Muon step, in place on the buffer:
 * {@code (buf, g, mu, gscale) -> (buf', u)} with {@code g' = g·gscale}, {@code buf' = mu·buf + g'}
 * (written over buf) and {@code u = g' + mu·buf'} (a fresh tensor), as the seed's
 * {@code buf = momentum * buf + g; g_eff = g + momentum * buf}. {@code mu} is a scalar input so a
 * momentum warmup can change it every step without changing the program.
 */
public record NesterovMomentum() implements Op {
    public String name() {
        return "nesterov_momentum";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 4);
        Op.floats(this, in, 0, 1, 2, 3);
        Op.same(this, in, 0, 1);
        Op.scalar(this, in, 2);
        Op.scalar(this, in, 3);
        return List.of(in.get(0), in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 5 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0, -1};
    }
}
