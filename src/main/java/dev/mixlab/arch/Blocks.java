package dev.mixlab.arch;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.FfnType;
import dev.mixlab.config.MlpBlock;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.config.SwigluBlock;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Value;

/**
 * The built-in block types. Each is pre-norm with a residual connection, and residual branches
 * get dropout in training programs (as nanoGPT).
 */
public final class Blocks {
    private Blocks() {}

    /** Emits one layer. The switch is exhaustive over the config's block family. */
    public static Value apply(ModelContext ctx, BlockSpec spec, int layer, Value x) {
        String p = "blocks." + layer;
        ProgramBuilder b = ctx.builder();
        try (var s = b.scope(p)) {
            return switch (spec) {
                case PlainBlock pb -> plain(ctx, pb, p, x);
                case MlpBlock mb -> residual(ctx, x, FeedForward.mlp(ctx, p + ".mlp", Norms.apply(ctx, p + ".mlp_norm", x),
                        mb.activation(), mb.mlpMult()));
                case SwigluBlock sb -> residual(ctx, x, FeedForward.swiglu(ctx, p + ".mlp", Norms.apply(ctx, p + ".mlp_norm", x),
                        sb.mlpMult()));
            };
        }
    }

    /** {@code plain}: pre-norm causal attention, then its FFN tail. */
    static Value plain(ModelContext ctx, PlainBlock pb, String p, Value x) {
        Value a = SelfAttention.apply(ctx, p + ".attn", Norms.apply(ctx, p + ".attn_norm", x), pb.heads(), pb.kvHeads(),
                pb.headDim());
        x = residual(ctx, x, a);
        if (pb.ffn() == FfnType.NONE) return x;
        Value h = Norms.apply(ctx, p + ".mlp_norm", x);
        Value f = pb.ffn() == FfnType.SWIGLU
                ? FeedForward.swiglu(ctx, p + ".mlp", h, pb.mlpMult())
                : FeedForward.mlp(ctx, p + ".mlp", h, pb.activation(), pb.mlpMult());
        return residual(ctx, x, f);
    }

    static Value residual(ModelContext ctx, Value x, Value branch) {
        return ctx.builder().add(x, ctx.dropout(branch));
    }
}
