package dev.mixlab.arch;

import dev.mixlab.config.Activation;
import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.GatedDeltaNetBlock;
import dev.mixlab.config.Mamba2Block;
import dev.mixlab.config.FfnType;
import dev.mixlab.config.MlpBlock;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.config.SwigluBlock;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Value;

/**
 * The built-in block types. Each is pre-norm with a residual connection, and residual branches
 * get dropout in training programs (as nanoGPT). With {@code resid_mix} a layer first mixes its
 * input with the embedding output; with {@code branch_scales} each branch is scaled per channel
 * ({@code attn_scale}, {@code mlp_scale}) before it is added.
 */
public final class Blocks {
    private Blocks() {}

    /** Emits one layer. The switch is exhaustive over the config's block family. */
    public static Value apply(ModelContext ctx, BlockSpec spec, int layer, Value x) {
        String p = "blocks." + layer;
        ProgramBuilder b = ctx.builder();
        try (var s = b.scope(p)) {
            if (ctx.config().residMix()) {
                // x = m0·x + m1·x0 per channel (parameter golf's resid_mix, one [D] row each)
                Value m0 = ctx.control(p + ".resid_mix.0", ctx.dim(), 1), m1 = ctx.control(p + ".resid_mix.1", ctx.dim(), 0);
                x = b.add(b.mul(x, m0), b.mul(ctx.embeddingOutput(), m1));
            }
            return switch (spec) {
                case PlainBlock pb -> plain(ctx, pb, p, x);
                case MlpBlock mb -> residual(ctx, p + ".mlp_scale", x, FeedForward.mlp(ctx, p + ".mlp",
                        Norms.apply(ctx, p + ".mlp_norm", x), mb.activation(), mb.mlpMult()));
                case SwigluBlock sb -> residual(ctx, p + ".mlp_scale", x, FeedForward.swiglu(ctx, p + ".mlp",
                        Norms.apply(ctx, p + ".mlp_norm", x), sb.mlpMult()));
                case GatedDeltaNetBlock gb -> ffnTail(ctx, p, residual(ctx, p + ".mixer_scale", x,
                        Recurrent.gatedDeltaNet(ctx, p + ".mixer", Norms.apply(ctx, p + ".mixer_norm", x), gb)), gb.ffn(), gb.activation(),
                        gb.mlpMult());
                case Mamba2Block mb -> ffnTail(ctx, p, residual(ctx, p + ".mixer_scale", x,
                        Recurrent.mamba2(ctx, p + ".mixer", Norms.apply(ctx, p + ".mixer_norm", x), mb)), mb.ffn(), mb.activation(),
                        mb.mlpMult());
            };
        }
    }

    /** {@code plain}: pre-norm causal attention, then its FFN tail. */
    static Value plain(ModelContext ctx, PlainBlock pb, String p, Value x) {
        Value a = SelfAttention.apply(ctx, p + ".attn", Norms.apply(ctx, p + ".attn_norm", x), pb.heads(), pb.kvHeads(),
                pb.headDim(), pb.windowSize(), pb.attnSoftcap(), pb.alibi());
        return ffnTail(ctx, p, residual(ctx, p + ".attn_scale", x, a), pb.ffn(), pb.activation(), pb.mlpMult());
    }

    /** The FFN tail of {@code plain} (and of the recurrent blocks): pre-norm MLP or SwiGLU with a residual, or nothing. */
    static Value ffnTail(ModelContext ctx, String p, Value x, FfnType ffn, Activation act, double mlpMult) {
        if (ffn == FfnType.NONE) return x;
        Value h = Norms.apply(ctx, p + ".mlp_norm", x);
        Value f = ffn == FfnType.SWIGLU
                ? FeedForward.swiglu(ctx, p + ".mlp", h, mlpMult)
                : FeedForward.mlp(ctx, p + ".mlp", h, act, mlpMult);
        return residual(ctx, p + ".mlp_scale", x, f);
    }

    /** x + dropout(branch), the branch first scaled per channel by {@code scaleName} [D] with {@code branch_scales}. */
    static Value residual(ModelContext ctx, String scaleName, Value x, Value branch) {
        if (ctx.config().branchScales()) branch = ctx.builder().mul(branch, ctx.control(scaleName, ctx.dim(), 1));
        return ctx.builder().add(x, ctx.dropout(branch));
    }
}
