package dev.mixlab.arch;

import dev.mixlab.config.Activation;
import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.GroupBlock;
import dev.mixlab.config.PluginBlock;
import dev.mixlab.config.GatedDeltaNetBlock;
import dev.mixlab.config.Mamba1Block;
import dev.mixlab.config.Mamba2Block;
import dev.mixlab.config.FfnType;
import dev.mixlab.config.MlaBlock;
import dev.mixlab.config.MlpBlock;
import dev.mixlab.config.MoeBlock;
import dev.mixlab.config.MlstmBlock;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.config.RetnetBlock;
import dev.mixlab.config.RwkvBlock;
import dev.mixlab.config.SwigluBlock;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Value;

/**
 * The built-in block types: attention ({@code plain}), FFN-only ({@code mlp}, {@code swiglu}) and the
 * recurrent mixers ({@code retnet}: {@link MultiScaleRetention}, {@code mlstm}: {@link MatrixLstm},
 * {@code rwkv}: {@link Rwkv6} time and channel mixing). Each is pre-norm with a residual connection
 * (the mixer's branch scale is {@code attn_scale}, the FFN's or channel mix's {@code mlp_scale}), and residual branches get dropout in training programs (as nanoGPT). With {@code resid_mix} a layer first mixes its
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
                case PlainBlock pb -> plain(ctx, pb, layer, x);
                case MlaBlock mb -> mla(ctx, mb, p, x);
                case MlpBlock mb -> residual(ctx, p + ".mlp_scale", x, FeedForward.mlp(ctx, p + ".mlp",
                        Norms.apply(ctx, p + ".mlp_norm", x), mb.activation(), mb.mlpMult()));
                case SwigluBlock sb -> residual(ctx, p + ".mlp_scale", x, FeedForward.swiglu(ctx, p + ".mlp",
                        Norms.apply(ctx, p + ".mlp_norm", x), sb.mlpMult()));
                case MoeBlock mb -> moe(ctx, mb, p, layer, x);
                case PluginBlock pl -> pl.provider().applyParsed(ctx, pl.spec(), layer, x);
                case GroupBlock g -> throw new IllegalArgumentException("a group is not one layer: build Config.layers()");
                case RetnetBlock rb -> {
                    Value m = MultiScaleRetention.apply(ctx, p + ".retention", Norms.apply(ctx, p + ".attn_norm", x), rb.heads(),
                            rb.headDim(), rb.valueDim());
                    yield ffnTail(ctx, p, residual(ctx, p + ".attn_scale", x, m), rb.ffn(), rb.activation(), rb.mlpMult());
                }
                case MlstmBlock mb -> {
                    Value m = MatrixLstm.apply(ctx, p + ".mlstm", Norms.apply(ctx, p + ".attn_norm", x), mb.heads(), mb.headDim());
                    yield ffnTail(ctx, p, residual(ctx, p + ".attn_scale", x, m), mb.ffn(), mb.activation(), mb.mlpMult());
                }
                case RwkvBlock wb -> rwkv(ctx, wb, p, x);
                case GatedDeltaNetBlock gb -> gatedDeltaNet(ctx, gb, p, x);
                case Mamba2Block mb -> mamba2(ctx, mb, p, x);
                case Mamba1Block mb -> mamba1(ctx, mb, p, x);
            };
        }
    }

    /** {@code plain}: pre-norm causal attention, then its FFN tail ({@code mla} is the same with latent attention). */
    public static Value plain(ModelContext ctx, PlainBlock pb, int layer, Value x) {
        String p = "blocks." + layer;
        Value a = SelfAttention.apply(ctx, p + ".attn", Norms.apply(ctx, p + ".attn_norm", x), pb, layer);
        return ffnTail(ctx, p, residual(ctx, p + ".attn_scale", x, a), pb.ffn(), pb.activation(), pb.mlpMult());
    }

    /** {@code mla}: pre-norm multi-head latent attention, then its FFN tail. */
    static Value mla(ModelContext ctx, MlaBlock mb, String p, Value x) {
        Value a = LatentAttention.apply(ctx, p + ".attn", Norms.apply(ctx, p + ".attn_norm", x), mb);
        return ffnTail(ctx, p, residual(ctx, p + ".attn_scale", x, a), mb.ffn(), mb.activation(), mb.mlpMult());
    }

    /** {@code rwkv}: RWKV-6 time mixing, then channel mixing in place of the FFN, each pre-norm and residual. */
    static Value rwkv(ModelContext ctx, RwkvBlock wb, String p, Value x) {
        Value t = Rwkv6.timeMix(ctx, p + ".tmix", Norms.apply(ctx, p + ".attn_norm", x), wb.headSize(), wb.mixLoraDim(),
                wb.decayLoraDim());
        x = residual(ctx, p + ".attn_scale", x, t);
        Value c = Rwkv6.channelMix(ctx, p + ".cmix", Norms.apply(ctx, p + ".mlp_norm", x), wb.mlpMult());
        return residual(ctx, p + ".mlp_scale", x, c);
    }

    /** The FFN tail of a mixer ({@code plain}, {@code mla}, {@code retnet}, {@code mlstm}, {@code gated_deltanet}, {@code mamba2}): pre-norm MLP or SwiGLU, or none. */
    static Value ffnTail(ModelContext ctx, String p, Value x, FfnType ffn, Activation act, double mult) {
        if (ffn == FfnType.NONE) return x;
        Value h = Norms.apply(ctx, p + ".mlp_norm", x);
        Value f = ffn == FfnType.SWIGLU
                ? FeedForward.swiglu(ctx, p + ".mlp", h, mult)
                : FeedForward.mlp(ctx, p + ".mlp", h, act, mult);
        return residual(ctx, p + ".mlp_scale", x, f);
    }

    /** {@code gated_deltanet}: the pre-norm Gated DeltaNet mixer, then its FFN tail. */
    static Value gatedDeltaNet(ModelContext ctx, GatedDeltaNetBlock gb, String p, Value x) {
        Value m = Recurrent.gatedDeltaNet(ctx, p + ".mixer", Norms.apply(ctx, p + ".mixer_norm", x), gb);
        return ffnTail(ctx, p, residual(ctx, p + ".mixer_scale", x, m), gb.ffn(), gb.activation(), gb.mlpMult());
    }

    /** {@code mamba2}: the pre-norm Mamba-2 mixer, then its FFN tail. */
    static Value mamba2(ModelContext ctx, Mamba2Block mb, String p, Value x) {
        Value m = Recurrent.mamba2(ctx, p + ".mixer", Norms.apply(ctx, p + ".mixer_norm", x), mb);
        return ffnTail(ctx, p, residual(ctx, p + ".mixer_scale", x, m), mb.ffn(), mb.activation(), mb.mlpMult());
    }

    /** {@code mamba}: the pre-norm Mamba (Mamba-1) mixer, then its FFN tail. */
    static Value mamba1(ModelContext ctx, Mamba1Block mb, String p, Value x) {
        Value m = Recurrent.mamba1(ctx, p + ".mixer", Norms.apply(ctx, p + ".mixer_norm", x), mb);
        return ffnTail(ctx, p, residual(ctx, p + ".mixer_scale", x, m), mb.ffn(), mb.activation(), mb.mlpMult());
    }

    /** {@code moe}: its mixer block's mixer (whose FFN is none), then the mixture-of-experts FFN. */
    static Value moe(ModelContext ctx, MoeBlock mb, String p, int layer, Value x) {
        x = switch (mb.mixer()) {
            case PlainBlock pb -> plain(ctx, pb, layer, x);
            case MlaBlock ml -> mla(ctx, ml, p, x);
            case GatedDeltaNetBlock gb -> gatedDeltaNet(ctx, gb, p, x);
            case Mamba2Block m2 -> mamba2(ctx, m2, p, x);
            case Mamba1Block m1 -> mamba1(ctx, m1, p, x);
        };
        Value f = MixtureOfExperts.apply(ctx, p + ".moe", Norms.apply(ctx, p + ".mlp_norm", x), mb, layer);
        return residual(ctx, p + ".mlp_scale", x, f);
    }

    /**
     * The attention sub-layer of {@code plain} (q/k/v, norms, positions, the mask options of {@code pb},
     * output projection) on an already normalised {@code x}, parameters under {@code name}, in layer
     * {@code layer} (differential attention's λ_init depends on it); for plug-ins.
     */
    public static Value attention(ModelContext ctx, String name, Value x, PlainBlock pb, int layer) {
        return SelfAttention.apply(ctx, name, x, pb, layer);
    }

    /** The model's norm (its {@code norm_type}, gain {@code name.weight}) over the last dimension; for plug-ins. */
    public static Value norm(ModelContext ctx, String name, Value x) {
        return Norms.apply(ctx, name, x);
    }

    /** The FFN tail of {@code ffn} type {@code mlp} (activation {@code act}) or {@code swiglu}, parameters under {@code name}; for plug-ins. */
    public static Value ffn(ModelContext ctx, String name, Value x, FfnType ffn, Activation act, double mlpMult) {
        return switch (ffn) {
            case SWIGLU -> FeedForward.swiglu(ctx, name, x, mlpMult);
            case MLP -> FeedForward.mlp(ctx, name, x, act, mlpMult);
            case NONE -> throw new IllegalArgumentException("ffn none has no tail to build");
        };
    }

    /** x + dropout(branch), the branch first scaled per channel by {@code scaleName} [D] with {@code branch_scales}. */
    public static Value residual(ModelContext ctx, String scaleName, Value x, Value branch) {
        if (ctx.config().branchScales()) branch = ctx.builder().mul(branch, ctx.control(scaleName, ctx.dim(), 1));
        return ctx.builder().add(x, ctx.dropout(branch));
    }
}
