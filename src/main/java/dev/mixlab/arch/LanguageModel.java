package dev.mixlab.arch;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.Config;
import dev.mixlab.config.PositionalEmbedding;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.PositionIds;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import java.util.List;

/**
 * Assembles the whole model from a config: token (and learned position) embeddings, the layers in
 * order, the final norm and the output head (tied to the token embedding or its own matrix).
 */
public final class LanguageModel {
    private LanguageModel() {}

    /**
     * Emits the forward pass for {@code ids[B,T]} and returns the logits {@code [B,T,V]}.
     * {@code seed} is the dropout seed input (required when training with dropout, else null).
     */
    public static Value logits(ProgramBuilder b, Config c, Value ids, boolean training, Value seed) {
        return emit(b, c, ids, new ModelContext(b, c, training, seed, ids.shape().dim(0), null));
    }

    /**
     * Emits one incremental-decoding call: {@code ids[B,S]} are the tokens at positions
     * {@code pos..pos+S-1} (an i32 scalar input); earlier tokens are remembered in the blocks' cache
     * state. Returns logits {@code [B,S,V]}, equal to the full forward pass's at those positions.
     */
    public static Value decodeLogits(ProgramBuilder b, Config c, Value ids, Value pos) {
        return emit(b, c, ids, new ModelContext(b, c, false, null, ids.shape().dim(0), pos));
    }

    private static Value emit(ProgramBuilder b, Config c, Value ids, ModelContext ctx) {
        int t = ids.shape().dim(1), d = c.modelDim();
        Value x;
        try (var s = b.scope("embed")) {
            Value tok = b.param("tok_emb.weight", Shape.of(c.vocabSize(), d), Init.normal(c.initStd()), "embedding");
            x = b.embedding(tok, ids);
            if (c.positionalEmbedding() == PositionalEmbedding.LEARNED_ABSOLUTE) {
                Value pos = b.param("pos_emb.weight", Shape.of(c.seqLen(), d), Init.normal(c.initStd()), "embedding");
                // decoding adds the rows of the positions being fed; training adds all seq_len rows
                x = b.add(x, ctx.decoding() ? b.embedding(pos, b.apply1(new PositionIds(t), ctx.position())) : pos);
            }
            x = ctx.dropout(x);
        }
        List<BlockSpec> layers = c.layers();
        for (int i = 0; i < layers.size(); i++) x = Blocks.apply(ctx, layers.get(i), i, x);
        try (var s = b.scope("head")) {
            x = Norms.apply(ctx, "final_norm", x);
            Value w = c.tieEmbeddings()
                    ? b.params().stream().filter(v -> v.name().equals("tok_emb.weight")).findFirst().orElseThrow()
                    : b.param("lm_head.weight", Shape.of(c.vocabSize(), d), Init.normal(c.initStd()), "matrix");
            return b.linear(x, w);
        }
    }

    /** Whether a training program of this config needs the dropout seed input. */
    public static boolean needsSeed(Config c) {
        return c.dropout() > 0;
    }
}
