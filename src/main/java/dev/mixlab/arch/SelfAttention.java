package dev.mixlab.arch;

import dev.mixlab.config.PlainBlock;
import dev.mixlab.config.PositionalEmbedding;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.CachedAttention;
import dev.mixlab.ir.ExpandLast;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.KvWrite;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;

/**
 * Causal multi-head (grouped-query) self-attention: q/k/v projections (biased when the config has
 * {@code bias} or {@code attn_bias}), optional RMSNorm of q and k per head ({@code qk_norm}), RoPE if
 * configured (possibly partial), an optional learned per-head gain on q ({@code q_gain}), output
 * projection. With {@code window > 0} each query attends only the last {@code window} positions; with
 * {@code softcap > 0} the scaled scores s become softcap·tanh(s/softcap) before the softmax; with
 * {@code alibi} the (capped) score of query i and key j then gets −m_h·(i − j) (ALiBi head slopes); with
 * {@code chunk > 0} each query sees only keys of its own chunk of {@code chunk} positions, and RoPE positions
 * restart at every chunk (Llama 4's chunked attention); with {@code gate} the output, before the output
 * projection, is multiplied by sigmoid of a projection of the input (gated attention, Qwen3-Next).
 */
final class SelfAttention {
    private SelfAttention() {}

    /** Attention with the options of a {@code plain} spec (heads, window, softcap, ALiBi, chunks, differential) in layer {@code layer}. */
    static Value apply(ModelContext ctx, String name, Value x, PlainBlock pb, int layer) {
        if (pb.differential()) return DiffAttention.apply(ctx, name, x, pb, layer);
        return apply(ctx, name, x, pb.heads(), pb.kvHeads(), pb.headDim(), pb.windowSize(), pb.attnSoftcap(), pb.alibi(),
                pb.attnChunkSize(), ropeBase(ctx, pb), pb.outputGate());
    }

    /** @return this layer's RoPE base (its own or the model's), or 0 when the layer has no RoPE (model without it, or {@code nope}) */
    static double ropeBase(ModelContext ctx, PlainBlock pb) {
        if (ctx.config().positionalEmbedding() != PositionalEmbedding.ROPE || pb.nope()) return 0;
        return pb.ropeBase() > 0 ? pb.ropeBase() : ctx.config().ropeBase();
    }

    /** Without chunks. */
    static Value apply(ModelContext ctx, String name, Value x, int heads, int kvHeads, int hd, int window, double softcap,
                       boolean alibi) {
        return apply(ctx, name, x, heads, kvHeads, hd, window, softcap, alibi, 0,
                ctx.config().positionalEmbedding() == PositionalEmbedding.ROPE ? ctx.config().ropeBase() : 0, false);
    }

    static Value apply(ModelContext ctx, String name, Value x, int heads, int kvHeads, int hd, int window, double softcap,
                       boolean alibi, int chunk, double ropeBase, boolean gate) {
        ProgramBuilder b = ctx.builder();
        int d = ctx.dim(), bsz = x.shape().dim(0), t = x.shape().dim(1);
        boolean qkvBias = ctx.config().bias() || ctx.config().attnBias();
        Value q = b.reshape(ctx.linear(name + ".q", x, heads * hd, 1, qkvBias), bsz, t, heads, hd);
        Value k = b.reshape(ctx.linear(name + ".k", x, kvHeads * hd, 1, qkvBias), bsz, t, kvHeads, hd);
        Value v = b.reshape(ctx.linear(name + ".v", x, kvHeads * hd, 1, qkvBias), bsz, t, kvHeads, hd);
        var c = ctx.config();
        if (c.qkNorm()) {
            q = qkNorm(ctx, name + ".q_norm", q);
            k = qkNorm(ctx, name + ".k_norm", k);
        }
        if (ropeBase > 0) {
            // chunked attention restarts positions at every chunk (period = chunk; 0 = never)
            Rope rope = new Rope(ropeBase, c.ropeDims(hd), c.ropeInterleaved(), false, chunk);
            q = ctx.decoding() ? b.apply1(rope, q, ctx.position()) : b.apply1(rope, q);
            k = ctx.decoding() ? b.apply1(rope, k, ctx.position()) : b.apply1(rope, k);
        }
        if (c.qGain()) {
            // per-head gain [H] repeated over head_dim, broadcast over [B,T]
            q = b.mul(q, b.apply1(new ExpandLast(hd), ctx.control(name + ".q_gain", heads, c.qkGainInit())));
        }
        if (ctx.decoding()) {
            Shape cache = Shape.of(bsz, ctx.seqLen(), kvHeads, hd);
            Value kc = b.apply1(new KvWrite(), b.state("cache." + name + ".k", cache, Init.zeros()), k, ctx.position());
            Value vc = b.apply1(new KvWrite(), b.state("cache." + name + ".v", cache, Init.zeros()), v, ctx.position());
            Value y = b.apply1(new CachedAttention(heads, kvHeads, 1 / Math.sqrt(hd), window, softcap, alibi, chunk), q, kc, vc,
                    ctx.position());
            return ctx.projection(name + ".proj", gated(ctx, name, x, b.reshape(y, bsz, t, heads * hd), gate, qkvBias), d);
        }
        double p = ctx.dropout();
        Attention op = new Attention(heads, kvHeads, 1 / Math.sqrt(hd), p, p > 0 ? ctx.nextSalt() : 0, window, softcap,
                alibi, chunk);
        Value y = p > 0 ? b.apply1(op, q, k, v, ctx.seed()) : b.apply1(op, q, k, v);
        y = b.reshape(y, bsz, t, heads * hd);
        return ctx.projection(name + ".proj", gated(ctx, name, x, y, gate, qkvBias), d);
    }

    /** RMSNorm over the last axis (head_dim) of q or k, with a learned gain {@code name.weight} when {@code qk_norm_weight}. */
    static Value qkNorm(ModelContext ctx, String name, Value x) {
        var c = ctx.config();
        ProgramBuilder b = ctx.builder();
        if (!c.qkNormWeight()) return b.apply1(new RmsNorm(c.normEps(), false), x);
        return b.apply1(new RmsNorm(c.normEps(), true), x, b.param(name + ".weight", Shape.of(x.shape().last()), Init.ones(), "norm"));
    }

    /** y ⊙ sigmoid(x·W_gateᵀ) with {@code gate}, else y; the gate has one channel per head channel. */
    private static Value gated(ModelContext ctx, String name, Value x, Value y, boolean gate, boolean bias) {
        if (!gate) return y;
        ProgramBuilder b = ctx.builder();
        return b.mul(y, b.unary(UnaryFn.SIGMOID, ctx.linear(name + ".gate", x, y.shape().last(), 1, bias)));
    }
}
