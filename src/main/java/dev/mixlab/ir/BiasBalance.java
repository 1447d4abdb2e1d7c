package dev.mixlab.ir;

import java.util.List;

/**
 * DeepSeek-V3's auxiliary-loss-free balancing update, in place: {@code (bias[E], load[E]) -> bias'}
 * with {@code bias_i += rate·sign(mean(load) − load_i)}: an overloaded expert's routing bias falls,
 * an underloaded one's rises (sign(0) = 0).
 */
public record BiasBalance(double rate) implements Op {
    public String name() {
        return "bias_balance";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0, 1);
        Op.same(this, in, 0, 1);
        if (in.get(0).shape().rank() != 1) throw Op.mismatch(this, in, "bias and load must be [E]");
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 3 * in.get(0).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0};
    }

    public String attrs() {
        return "rate=" + rate;
    }
}
