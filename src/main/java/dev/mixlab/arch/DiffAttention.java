package dev.mixlab.arch;

import dev.mixlab.config.PlainBlock;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.Broadcast;
import dev.mixlab.ir.CachedAttention;
import dev.mixlab.ir.ExpandLast;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.KvWrite;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SumLast;
import dev.mixlab.ir.SwapAxes;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;

/**
 * Differential attention (Ye et al. 2024, "Differential Transformer", the official
 * {@code multihead_diffattn}): each of the H heads has two query/key maps of width d = head_dim/2
 * and one value of width 2d; its output is
 * {@code (softmax(q1·k1ᵀ/√d) − λ·softmax(q2·k2ᵀ/√d))·v}, normalised per head by an RMSNorm over 2d
 * (learned gain {@code subln}, shared by the heads) and scaled by {@code 1 − λ_init}, with
 * {@code λ = exp(λ_q1·λ_k1) − exp(λ_q2·λ_k2) + λ_init} and {@code λ_init = 0.8 − 0.6·exp(−0.3·l)}
 * for the 0-based layer index l (the paper's l − 1).
 *
 * <p>Composed from existing ops: the attention op needs v as wide as q, so the value's two halves
 * become two kv heads each ({@code swap_axes} puts half c of every head into head c·H + h), and each
 * map's q and k weights are repeated for both halves ({@code broadcast} of the weight, so one
 * parameter); each map is then one {@code attention} over 2H heads. The difference is {@code scale}
 * and {@code mul} by the scalar λ, and a second {@code swap_axes} brings each head's two halves
 * together for the norm.
 *
 * <p>Parameters (the paper's weights by row): {@code q1}/{@code q2} [H·d, D] are the rows of
 * {@code q_proj} for heads 2h/2h+1, {@code k1}/{@code k2} likewise of {@code k_proj}; {@code v}
 * [H·2d, D], {@code proj} [D, H·2d] and {@code subln} [2d] as the paper's; {@code lambda_q1} ... [d].
 * Requires kv heads = heads (the official code's grouped form pairs maps differently).
 */
final class DiffAttention {
    private DiffAttention() {}

    /** @return λ_init of the 0-based layer {@code layer}: 0.8 − 0.6·exp(−0.3·layer) */
    static double lambdaInit(int layer) {
        return 0.8 - 0.6 * Math.exp(-0.3 * layer);
    }

    static Value apply(ModelContext ctx, String name, Value x, PlainBlock pb, int layer) {
        ProgramBuilder b = ctx.builder();
        var c = ctx.config();
        int h = pb.heads(), d = pb.headDim() / 2, dm = ctx.dim(), bsz = x.shape().dim(0), t = x.shape().dim(1);
        boolean qkvBias = c.bias() || c.attnBias();
        if (pb.kvHeads() != h) throw new IllegalArgumentException("differential attention needs kv_heads == heads");
        double lambdaInit = lambdaInit(layer);
        Value[] q = new Value[2], k = new Value[2];
        // q_gain: one learned gain per differential head, for both maps and both value halves ([2H] heads × d)
        Value qGain = c.qGain() ? b.apply1(new ExpandLast(d), b.reshape(b.apply1(new Broadcast(Shape.of(2, h)),
                ctx.control(name + ".q_gain", h, c.qkGainInit())), 2 * h)) : null;
        for (int s = 0; s < 2; s++) {
            q[s] = b.reshape(repeated(ctx, name + ".q" + (s + 1), x, h * d, qkvBias), bsz, t, 2 * h, d);
            k[s] = b.reshape(repeated(ctx, name + ".k" + (s + 1), x, h * d, qkvBias), bsz, t, 2 * h, d);
            if (c.qkNorm()) {
                q[s] = SelfAttention.qkNorm(ctx, name + ".q" + (s + 1) + "_norm", q[s]);
                k[s] = SelfAttention.qkNorm(ctx, name + ".k" + (s + 1) + "_norm", k[s]);
            }
            double ropeBase = SelfAttention.ropeBase(ctx, pb);
            if (ropeBase > 0) {
                Rope rope = new Rope(ropeBase, c.ropeDims(d), c.ropeInterleaved(), false, pb.attnChunkSize());
                q[s] = ctx.decoding() ? b.apply1(rope, q[s], ctx.position()) : b.apply1(rope, q[s]);
                k[s] = ctx.decoding() ? b.apply1(rope, k[s], ctx.position()) : b.apply1(rope, k[s]);
            }
            if (qGain != null) q[s] = b.mul(q[s], qGain);
        }
        // v [B,T,H,2,d] (head h, half c) -> [B,T,2,H,d] -> kv head c·H + h
        Value v = b.reshape(ctx.linear(name + ".v", x, h * 2 * d, 1, qkvBias), bsz, t, h, 2, d);
        v = b.reshape(b.apply1(new SwapAxes(2, 3), v), bsz, t, 2 * h, d);
        Value[] o = new Value[2];
        double scale = 1 / Math.sqrt(d);
        if (ctx.decoding()) {
            Shape cache = Shape.of(bsz, ctx.seqLen(), 2 * h, d);
            Value vc = b.apply1(new KvWrite(), b.state("cache." + name + ".v", cache, Init.zeros()), v, ctx.position());
            for (int s = 0; s < 2; s++) {
                Value kc = b.apply1(new KvWrite(), b.state("cache." + name + ".k" + (s + 1), cache, Init.zeros()), k[s], ctx.position());
                o[s] = b.apply1(new CachedAttention(2 * h, 2 * h, scale, pb.windowSize(), pb.attnSoftcap(), false, pb.attnChunkSize()),
                        q[s], kc, vc, ctx.position());
            }
        } else {
            double p = ctx.dropout();
            for (int s = 0; s < 2; s++) {
                Attention op = new Attention(2 * h, 2 * h, scale, p, p > 0 ? ctx.nextSalt() : 0, pb.windowSize(), pb.attnSoftcap(),
                        false, pb.attnChunkSize());
                o[s] = p > 0 ? b.apply1(op, q[s], k[s], v, ctx.seed()) : b.apply1(op, q[s], k[s], v);
            }
        }
        // λ = exp(λq1·λk1) − exp(λq2·λk2) + λ_init; y = o1 − λ·o2
        Value e1 = lambdaTerm(ctx, name, "1", d), e2 = lambdaTerm(ctx, name, "2", d);
        Value learned = b.apply1(new ExpandLast(d), b.add(e1, b.scale(e2, -1)));   // [d], every element the learned part of λ
        Value y = b.add(o[0], b.add(b.scale(o[1], -lambdaInit), b.scale(b.mul(o[1], learned), -1)));
        // [B,T,2,H,d] -> [B,T,H,2,d]: each head's two halves side by side, normalised together
        y = b.reshape(b.apply1(new SwapAxes(2, 3), b.reshape(y, bsz, t, 2, h, d)), bsz, t, h, 2 * d);
        Value gain = b.param(name + ".subln.weight", Shape.of(2 * d), Init.ones(), "norm");
        y = b.scale(b.apply1(new RmsNorm(c.normEps(), true), y, gain), 1 - lambdaInit);
        return ctx.projection(name + ".proj", b.reshape(y, bsz, t, h * 2 * d), dm);
    }

    /** x·Wᵀ for W [out, D] repeated twice along the outputs ({@code [2·out]}, one parameter): both value halves see the same q/k. */
    private static Value repeated(ModelContext ctx, String name, Value x, int out, boolean bias) {
        ProgramBuilder b = ctx.builder();
        Value w = ctx.linearWeight(name, out, x.shape().last(), 1);
        Value w2 = b.reshape(b.apply1(new Broadcast(Shape.of(2, out, x.shape().last())), w), 2 * out, x.shape().last());
        Value y = b.linear(x, w2);
        if (bias) {
            Value bb = b.param(name + ".bias", Shape.of(out), Init.zeros(), "bias");
            y = b.add(y, b.reshape(b.apply1(new Broadcast(Shape.of(2, out)), bb), 2 * out));
        }
        return y;
    }

    /** exp(λ_q·λ_k) as a scalar, from the learned vectors {@code lambda_q<i>}, {@code lambda_k<i>} [d] (init normal(0, 0.1)). */
    private static Value lambdaTerm(ModelContext ctx, String name, String i, int d) {
        ProgramBuilder b = ctx.builder();
        Value lq = b.param(name + ".lambda_q" + i, Shape.of(d), Init.normal(0.1), "control");
        Value lk = b.param(name + ".lambda_k" + i, Shape.of(d), Init.normal(0.1), "control");
        return b.unary(UnaryFn.EXP, b.apply1(new SumLast(), b.mul(lq, lk)));
    }
}
