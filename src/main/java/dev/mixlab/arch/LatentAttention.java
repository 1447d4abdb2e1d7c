package dev.mixlab.arch;

import dev.mixlab.config.MlaBlock;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.CachedAttention;
import dev.mixlab.ir.ExpandLast;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.KvWrite;
import dev.mixlab.ir.PadLast;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SliceLast;
import dev.mixlab.ir.SumLast;
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
 * <p>Decoding caches only what MLA is designed to cache: per token, c_kv after its norm and the rotated
 * shared key, as one state {@code cache.<name>.kv_latent} [B,Tmax,1,r+dr] = [c_kv | k_rope]. A one-token
 * step uses the absorbed form ({@link #absorbed}: the cache is attended directly as one shared key/value
 * head); a prefill of S > 1 tokens up-projects keys and values of the whole cache from the latent once
 * for all its queries, as the training form does.
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
        double scale = 1 / Math.sqrt(dqk);
        if (ctx.decoding()) {
            // the cache: per token the latent and the shared RoPE key, [c_kv | k_rope], nothing per head
            int r = m.kvLoraRank(), cw = r + dr;
            Value entry = b.reshape(ckv, bsz, t, 1, r);
            if (dr > 0) entry = b.add(b.apply1(new PadLast(0, cw, 1), entry), b.apply1(new PadLast(r, cw, 1), kRope));
            Value cache = b.apply1(new KvWrite(), b.state("cache." + name + ".kv_latent", Shape.of(bsz, ctx.seqLen(), 1, cw),
                    Init.zeros()), entry, ctx.position());
            if (t == 1) return ctx.projection(name + ".proj", absorbed(ctx, name, m, q, cache, scale), ctx.dim());
            // a prefill of S > 1 tokens up-projects keys and values of the whole cache once for all its queries
            Value latent = b.reshape(dr > 0 ? b.apply1(new SliceLast(0, r, 1), cache) : cache, bsz, ctx.seqLen(), r);
            Value kRopeAll = dr > 0 ? b.apply1(new SliceLast(r, dr, 1), cache) : null;
            Value k = keys(ctx, name, m, latent, kRopeAll, width), v = values(ctx, name, m, latent, width);
            if (dqk < width) q = b.apply1(new PadLast(0, width, h), q);
            Value y = b.apply1(new CachedAttention(h, h, scale), q, k, v, ctx.position());
            if (dv < width) y = b.apply1(new SliceLast(0, dv, h), y);
            return ctx.projection(name + ".proj", b.reshape(y, bsz, t, h * dv), ctx.dim());
        }
        Value k = keys(ctx, name, m, ckv, kRope, width), v = values(ctx, name, m, ckv, width);
        if (dqk < width) q = b.apply1(new PadLast(0, width, h), q);
        double p = ctx.dropout();
        Attention op = new Attention(h, h, scale, p, p > 0 ? ctx.nextSalt() : 0);
        Value y = p > 0 ? b.apply1(op, q, k, v, ctx.seed()) : b.apply1(op, q, k, v);
        if (dv < width) y = b.apply1(new SliceLast(0, dv, h), y);
        return ctx.projection(name + ".proj", b.reshape(y, bsz, t, h * dv), ctx.dim());
    }

    /**
     * One decoding step in the absorbed form (DeepSeek-V2 §2.1.2): W_uk is folded into the query,
     * {@code q_abs[h] = W_uk[h]ᵀ·q_nope[h]} (width r), so every head attends the cached [c_kv | k_rope]
     * rows directly as one shared key/value head; the first r output channels, {@code Σ p·c_kv}, are
     * then up-projected per head by W_uv. Per step this reads the cache once instead of up-projecting
     * it. The per-head products are a broadcast multiply and a sum ([B,1,H,dn,r] and [B,1,H,dv,r] for one
     * token): there is no batched matmul op, and at one token the extra memory is small.
     * Returns the heads' outputs [B,1,H·dv].
     */
    private static Value absorbed(ModelContext ctx, String name, MlaBlock m, Value q, Value cache, double scale) {
        ProgramBuilder b = ctx.builder();
        int bsz = q.shape().dim(0), h = m.heads(), dn = m.qkNopeHeadDim(), dr = m.qkRopeHeadDim(), dv = m.vHeadDim();
        int r = m.kvLoraRank(), cw = r + dr;
        Value wUk = b.reshape(ctx.linearWeight(name + ".k_up", h * dn, r, 1), h, dn, r);
        Value wUv = b.reshape(ctx.linearWeight(name + ".v_up", h * dv, r, 1), h, dv, r);
        Value qNope = b.apply1(new SliceLast(dr, dn, h), q);                                           // [B,1,H,dn]
        Value prod = b.mul(b.apply1(new ExpandLast(r), qNope), wUk);                     // [B,1,H,dn,r]
        Value qAbs = b.reshape(b.apply1(new SliceLast(0, r, 1), prod), bsz, 1, h, r);                  // Σ over dn
        Value qc = dr > 0
                ? b.add(b.apply1(new PadLast(0, cw, h), qAbs), b.apply1(new PadLast(r, cw, h), b.apply1(new SliceLast(0, dr, h), q)))
                : qAbs;
        Value o = b.apply1(new CachedAttention(h, 1, scale), qc, cache, cache, ctx.position());       // [B,1,H,cw]
        if (dr > 0) o = b.apply1(new SliceLast(0, r, h), o);                                          // Σ p·c_kv
        Value oRows = b.apply1(new PadLast(0, r, dv), b.reshape(o, bsz, 1, h, 1, r));                 // [B,1,H,dv,r]
        Value y = b.apply1(new SumLast(), b.mul(oRows, wUv));                          // [B,1,H,dv]
        return b.reshape(y, bsz, 1, h * dv);
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
