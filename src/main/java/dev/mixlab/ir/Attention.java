package dev.mixlab.ir;

import java.util.List;

/**
 * Causal scaled-dot-product attention with grouped KV heads:
 * {@code (q[B,T,H,hd], k[B,T,KV,hd], v[B,T,KV,hd], [seed]) -> [B,T,H,hd]}; query head h reads KV
 * head {@code h / (H/KV)}. With {@code dropout > 0} the attention probabilities are dropped with a
 * mask hashed from (seed, salt, position), so the backward pass regenerates it instead of storing it.
 * With {@code window > 0} (sliding-window attention) query i attends keys {@code i-window < j <= i};
 * {@code window = 0} is full causal attention. With {@code softcap > 0} each scaled score s becomes
 * {@code softcap·tanh(s/softcap)} before the softmax (logit softcapping); 0 is off. With {@code alibi} the score of query i and key j
 * (after the softcap) gets the bias {@code −m_h·(i − j)} with the {@link Alibi} slope of query head h.
 * With {@code chunk > 0} (chunked attention, Llama 4) query i attends only keys of its own chunk,
 * {@code floor(i/chunk)·chunk <= j <= i}, intersected with the window if both are set ({@link AttnMask}).
 */
public record Attention(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap,
                        boolean alibi, int chunk) implements Op {
    /** Full causal attention (no window). */
    public Attention(int heads, int kvHeads, double scale, double dropout, int salt) {
        this(heads, kvHeads, scale, dropout, salt, 0, 0, false, 0);
    }

    /** No logit softcap. */
    public Attention(int heads, int kvHeads, double scale, double dropout, int salt, int window) {
        this(heads, kvHeads, scale, dropout, salt, window, 0, false, 0);
    }

    /** No ALiBi. */
    public Attention(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap) {
        this(heads, kvHeads, scale, dropout, salt, window, softcap, false, 0);
    }

    /** No chunks. */
    public Attention(int heads, int kvHeads, double scale, double dropout, int salt, int window, double softcap, boolean alibi) {
        this(heads, kvHeads, scale, dropout, salt, window, softcap, alibi, 0);
    }

    public Attention {
        if (window < 0) throw new IllegalArgumentException("attention window " + window + " < 0");
        if (chunk < 0) throw new IllegalArgumentException("attention chunk " + chunk + " < 0");
        if (!(softcap >= 0) || Double.isInfinite(softcap)) throw new IllegalArgumentException("attention softcap " + softcap + " must be finite and >= 0");
    }

    public String name() {
        return "attention";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, dropout > 0 ? 4 : 3);
        AttentionShapes.check(this, in, heads, kvHeads);
        if (dropout > 0) {
            Op.ints(this, in, 3);
            Op.scalar(this, in, 3);
        }
        return List.of(in.get(0));
    }

    /** Causal work: two products over the T(T+1)/2 visible pairs, plus the softmax. */
    public long flops(List<TensorType> in) {
        return AttentionShapes.flops(in.get(0).shape(), 1);
    }

    public String attrs() {
        return "heads=" + heads + " kv=" + kvHeads + " scale=" + (float) scale
                + (dropout > 0 ? " dropout=" + dropout + " salt=" + salt : "") + (window > 0 ? " window=" + window : "")
                + (softcap > 0 ? " softcap=" + softcap : "") + (alibi ? " alibi" : "") + (chunk > 0 ? " chunk=" + chunk : "");
    }
}
