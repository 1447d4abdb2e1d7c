package dev.mixlab.ir;

import java.util.List;

/** {@code (q, k, v, dy, [seed]) -> (dq, dk, dv)} for {@link Attention}; recomputes the probabilities (with the ALiBi bias if set; the bias has no gradient); same mask ({@link AttnMask}). */
public record AttentionGrad(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap,
                            boolean alibi, int chunk) implements Op {
    /** Full causal attention (no window). */
    public AttentionGrad(int heads, int kvHeads, double scale, double dropout, int salt) {
        this(heads, kvHeads, scale, dropout, salt, 0, 0, false, 0);
    }

    /** No logit softcap. */
    public AttentionGrad(int heads, int kvHeads, double scale, double dropout, int salt, int window) {
        this(heads, kvHeads, scale, dropout, salt, window, 0, false, 0);
    }

    /** No ALiBi. */
    public AttentionGrad(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap) {
        this(heads, kvHeads, scale, dropout, salt, window, softcap, false, 0);
    }

    /** No chunks. */
    public AttentionGrad(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap, boolean alibi) {
        this(heads, kvHeads, scale, dropout, salt, window, softcap, alibi, 0);
    }

    public AttentionGrad {
        if (window < 0) throw new IllegalArgumentException("attention window " + window + " < 0");
        if (chunk < 0) throw new IllegalArgumentException("attention chunk " + chunk + " < 0");
        if (!(softcap >= 0) || Double.isInfinite(softcap)) throw new IllegalArgumentException("attention softcap " + softcap + " must be finite and >= 0");
    }

    public String name() {
        return "attention_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, dropout > 0 ? 5 : 4);
        AttentionShapes.check(this, in, heads, kvHeads);
        Op.same(this, in, 0, 3);
        if (dropout > 0) Op.ints(this, in, 4);
        return List.of(in.get(0), in.get(1), in.get(2));
    }

    public long flops(List<TensorType> in) {
        return AttentionShapes.flops(in.get(0).shape(), 2.5);
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "heads=" + heads + " kv=" + kvHeads + " scale=" + (float) scale
                + (dropout > 0 ? " dropout=" + dropout + " salt=" + salt : "") + (window > 0 ? " window=" + window : "")
                + (softcap > 0 ? " softcap=" + softcap : "") + (alibi ? " alibi" : "") + (chunk > 0 ? " chunk=" + chunk : "");
    }
}
