package dev.mixlab.ir;

import java.util.List;

/**
 * Causal attention of new queries against a KV cache: {@code (q[B,S,H,hd], kcache[B,Tmax,KV,hd],
 * vcache[B,Tmax,KV,hd], pos) -> [B,S,H,hd]}; query s sits at position {@code pos+s} and attends to
 * cache rows {@code 0..pos+s}, or with {@code window > 0} only rows {@code pos+s-window < j <= pos+s}.
 * With {@code softcap > 0} scaled scores s become {@code softcap·tanh(s/softcap)}. With {@code alibi}
 * the (capped) score of cache row j gets {@code −m_h·(pos+s − j)} ({@link Alibi}). Inference only.
 * With {@code chunk > 0} only the rows of the query's own chunk are attended ({@link AttnMask}).
 */
public record CachedAttention(int heads, int kvHeads, double scale, int window, double softcap, boolean alibi,
                              int chunk) implements Op {
    /** Full causal attention (no window). */
    public CachedAttention(int heads, int kvHeads, double scale) {
        this(heads, kvHeads, scale, 0, 0, false, 0);
    }

    /** No logit softcap. */
    public CachedAttention(int heads, int kvHeads, double scale, int window) {
        this(heads, kvHeads, scale, window, 0, false, 0);
    }

    /** No ALiBi. */
    public CachedAttention(int heads, int kvHeads, double scale, int window, double softcap) {
        this(heads, kvHeads, scale, window, softcap, false, 0);
    }

    /** No chunks. */
    public CachedAttention(int heads, int kvHeads, double scale, int window, double softcap, boolean alibi) {
        this(heads, kvHeads, scale, window, softcap, alibi, 0);
    }

    public CachedAttention {
        if (window < 0) throw new IllegalArgumentException("attention window " + window + " < 0");
        if (chunk < 0) throw new IllegalArgumentException("attention chunk " + chunk + " < 0");
        if (!(softcap >= 0) || Double.isInfinite(softcap)) throw new IllegalArgumentException("attention softcap " + softcap + " must be finite and >= 0");
    }

    public String name() {
        return "cached_attention";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 4);
        Op.floats(this, in, 0, 1, 2);
        Op.ints(this, in, 3);
        Op.scalar(this, in, 3);
        Shape q = in.get(0).shape(), k = in.get(1).shape();
        if (q.rank() != 4 || q.dim(2) != heads || heads % kvHeads != 0) throw Op.mismatch(this, in, "q must be [B,S," + heads + ",hd]");
        if (k.rank() != 4) throw Op.mismatch(this, in, "caches must be [B,Tmax," + kvHeads + ",hd]");
        Shape kv = Shape.of(q.dim(0), k.dim(1), kvHeads, q.dim(3));
        if (!k.equals(kv) || !in.get(2).shape().equals(kv)) {
            throw Op.mismatch(this, in, "caches must be [B,Tmax," + kvHeads + ",hd]");
        }
        return List.of(in.get(0));
    }

    /** Upper bound: every query against the whole cache. */
    public long flops(List<TensorType> in) {
        Shape q = in.get(0).shape();
        long t = in.get(1).shape().dim(1);
        return 4L * q.dim(0) * q.dim(1) * heads * t * q.dim(3);
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "heads=" + heads + " kv=" + kvHeads + " scale=" + (float) scale + (window > 0 ? " window=" + window : "")
                + (softcap > 0 ? " softcap=" + softcap : "") + (alibi ? " alibi" : "") + (chunk > 0 ? " chunk=" + chunk : "");
    }
}
