package dev.mixlab.arch;

import dev.mixlab.config.MlaBlock;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.CachedAttention;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.KvWrite;
import dev.mixlab.ir.PadLast;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SliceLast;
import dev.mixlab.ir.Value;

/**
 * Multi-head latent attention (DeepSeek-V2 §2.1, as Hugging Face's DeepSeek-V2/V3 modelling code):
 * <pre>
 *   c_kv   = RMSNorm(x·W_dkvᵀ)                      [B,T,r]      ({@code kv_down}, {@code kv_norm})
 *   k_rope = RoPE(x·W_krᵀ)                          [B,T,1,dr]   ({@code k_rope}; one key part shared by all heads)
 *   k_nope = c_kv·W_ukᵀ, v = c_kv·W_uvᵀ            [B,T,H,dn], [B,T,H,dv]   ({@code k_up}, {@code v_up})
 *   q      = x·W_qᵀ, or RMSNorm(x·W_dqᵀ)·W_uqᵀ     [B,T,H,dr+dn] ({@code q}, or {@code q_down}, {@code q_norm}, {@code q_up})
 *   k      = [k_rope | k_nope] per head, q's first dr channels rotated by RoPE
 *   y      = softmax(q·kᵀ / sqrt(dn+dr), causal)·v, then the output projection {@code proj}
 * </pre>
 * A head's query and key channels are laid out [RoPE part, nope part] (Hugging Face: [nope, RoPE]) so
 * that the {@code rope} op, which rotates the leading channels, applies to q directly; the order does not
 * change q·k.
 *
 * <p>The attention ops take one head width for q, k and v, so when {@code v_head_dim} differs from
 * dn+dr the narrower side is zero-padded ({@code pad_last}) and the output sliced back: zero value
 * channels give zero outputs that are cut away, and zero query/key channels add nothing to the scores,
 * so the result is exact. This keeps the attention kernels (reference, CPU, CUDA incl. flash) untouched
 * at the cost of some wasted work in the value product (DeepSeek-V3 shapes: 192 vs 128).
 *
 * <p>Decoding caches only what MLA is designed to cache: c_kv after its norm ({@code cache.<name>.latent},
 * [B,Tmax,1,r]) and the rotated shared key ({@code cache.<name>.k_rope}, [B,Tmax,1,dr]). Each decode call
 * up-projects keys and values for the whole cache from the latent (the non-absorbed form: it costs
 * Tmax·r·H·(dn+dv) multiply-adds per call, which is fine at lab scale and reuses the training ops).
 */
final class LatentAttention {
    private LatentAttention() {}

    static Value apply(ModelContext ctx, String name, Value x, MlaBlock m) {
        ProgramBuilder b = ctx.builder();
        var c = ctx.config();
        int bsz = x.shape().dim(0), t = x.shape().dim(1), h = m.heads();
        int dn = m.qkNopeHeadDim(), dr = m.qkRopeHeadDim(), dv = m.vHeadDim(), dqk = m.qkHeadDim();
        int width = Math.max(dqk, dv);   // the common head width the attention op sees

        Value q;
        if (m.qLoraRank() > 0) {
            Value cq = latentNorm(ctx, name + ".q_norm", ctx.linear(name + ".q_down", x, m.qLoraRank(), 1, false));
            q = ctx.linear(name + ".q_up", cq, h * dqk, 1, false);
        } else {
            q = ctx.linear(name + ".q", x, h * dqk, 1, false);
        }
        q = b.reshape(q, bsz, t, h, dqk);
        Value ckv = latentNorm(ctx, name + ".kv_norm", ctx.linear(name + ".kv_down", x, m.kvLoraRank(), 1, false));
        Value kRope = null;
        if (dr > 0) {
            Rope rope = new Rope(c.ropeBase(), dr, c.ropeInterleaved(), false);
            kRope = b.reshape(ctx.linear(name + ".k_rope", x, dr, 1, false), bsz, t, 1, dr);
            kRope = ctx.decoding() ? b.apply1(rope, kRope, ctx.position()) : b.apply1(rope, kRope);
            q = ctx.decoding() ? b.apply1(rope, q, ctx.position()) : b.apply1(rope, q);
        }
        if (dqk < width) q = b.apply1(new PadLast(0, width, h), q);
        double scale = 1 / Math.sqrt(dqk);

        Value y;
        if (ctx.decoding()) {
            // the cache: the latent and the shared RoPE key per token, nothing per head
            Value latent = b.apply1(new KvWrite(), b.state("cache." + name + ".latent", Shape.of(bsz, ctx.seqLen(), 1, m.kvLoraRank()),
                    Init.zeros()), b.reshape(ckv, bsz, t, 1, m.kvLoraRank()), ctx.position());
            if (dr > 0) {
                kRope = b.apply1(new KvWrite(), b.state("cache." + name + ".k_rope", Shape.of(bsz, ctx.seqLen(), 1, dr), Init.zeros()),
                        kRope, ctx.position());
            }
            Value all = b.reshape(latent, bsz, ctx.seqLen(), m.kvLoraRank());
            Value k = keys(ctx, name, m, all, kRope, width), v = values(ctx, name, m, all, width);
            y = b.apply1(new CachedAttention(h, h, scale), q, k, v, ctx.position());
        } else {
            Value k = keys(ctx, name, m, ckv, kRope, width), v = values(ctx, name, m, ckv, width);
            double p = ctx.dropout();
            Attention op = new Attention(h, h, scale, p, p > 0 ? ctx.nextSalt() : 0);
            y = p > 0 ? b.apply1(op, q, k, v, ctx.seed()) : b.apply1(op, q, k, v);
        }
        if (dv < width) y = b.apply1(new SliceLast(0, dv, h), y);
        return ctx.projection(name + ".proj", b.reshape(y, bsz, t, h * dv), ctx.dim());
    }

    /** RMSNorm over the latent's channels with a gain (as DeepSeek's kv_a_layernorm / q_a_layernorm) when the config has norm gains. */
    private static Value latentNorm(ModelContext ctx, String name, Value x) {
        var c = ctx.config();
        if (!c.normWeight()) return ctx.builder().apply1(new RmsNorm(c.normEps(), false), x);
        Value w = ctx.builder().param(name + ".weight", Shape.of(x.shape().last()), Init.ones(), "norm");
        return ctx.builder().apply1(new RmsNorm(c.normEps(), true), x, w);
    }

    /** Keys [B,L,H,width] from the latent [B,L,r] and the rotated shared key [B,L,1,dr]: [k_rope | k_nope | zeros]. */
    private static Value keys(ModelContext ctx, String name, MlaBlock m, Value latent, Value kRope, int width) {
        ProgramBuilder b = ctx.builder();
        int h = m.heads(), dn = m.qkNopeHeadDim(), dr = m.qkRopeHeadDim();
        Value kNope = b.reshape(ctx.linear(name + ".k_up", latent, h * dn, 1, false), latent.shape().dim(0), latent.shape().dim(1), h, dn);
        if (dr == 0 && width == dn) return kNope;
        Value k = b.apply1(new PadLast(dr, width, h), kNope);
        return dr == 0 ? k : b.add(b.apply1(new PadLast(0, width, h), kRope), k);
    }

    /** Values [B,L,H,width] from the latent [B,L,r], zero-padded past v_head_dim. */
    private static Value values(ModelContext ctx, String name, MlaBlock m, Value latent, int width) {
        ProgramBuilder b = ctx.builder();
        int h = m.heads(), dv = m.vHeadDim();
        Value v = b.reshape(ctx.linear(name + ".v_up", latent, h * dv, 1, false), latent.shape().dim(0), latent.shape().dim(1), h, dv);
        return dv < width ? b.apply1(new PadLast(0, width, h), v) : v;
    }
}
