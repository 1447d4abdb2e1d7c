package dev.mixlab.arch;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.Config;
import dev.mixlab.config.PositionalEmbedding;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.PositionIds;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import dev.mixlab.ir.UnaryFn;
import java.util.ArrayDeque;
import java.util.Deque;
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
        return forward(b, c, ids, training, seed).logits();
    }

    /** A forward pass's logits {@code [B,T,V]} and the router taps of its mixture-of-experts layers (layer order). */
    public record Forward(Value logits, List<RouterTap> routers) {}

    /** As {@link #logits}, also returning the router taps (aux losses, expert loads, balancing biases). */
    public static Forward forward(ProgramBuilder b, Config c, Value ids, boolean training, Value seed) {
        ModelContext ctx = new ModelContext(b, c, training, seed, ids.shape().dim(0), null);
        Value logits = emit(b, c, ids, ctx);
        return new Forward(logits, ctx.routers());
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
            Value tok = b.param("tok_emb.weight", Shape.of(c.vocabSize(), d), Init.normal(c.tokEmbInitStd()), "embedding");
            x = b.embedding(tok, ids);
            if (c.positionalEmbedding() == PositionalEmbedding.LEARNED_ABSOLUTE) {
                Value pos = b.param("pos_emb.weight", Shape.of(c.seqLen(), d), Init.normal(c.initStd()), "embedding");
                // decoding adds the rows of the positions being fed; training adds all seq_len rows
                x = b.add(x, ctx.decoding() ? b.embedding(pos, b.apply1(new PositionIds(t), ctx.position())) : pos);
            }
            if (c.embedNorm()) x = Norms.apply(ctx, "embed_norm", x);
            x = ctx.dropout(x);
        }
        ctx.embeddingOutput(x);
        List<BlockSpec> layers = c.layers();
        if (c.unetSkips()) {
            x = unet(ctx, layers, x);
        } else {
            for (int i = 0; i < layers.size(); i++) x = Blocks.apply(ctx, layers.get(i), i, x);
        }
        try (var s = b.scope("head")) {
            x = Norms.apply(ctx, "final_norm", x);
            Value w = c.tieEmbeddings()
                    ? b.params().stream().filter(v -> v.name().equals("tok_emb.weight")).findFirst().orElseThrow()
                    : b.param("lm_head.weight", Shape.of(c.vocabSize(), d), Init.normal(c.initStd()), "matrix");
            Value logits = b.linear(x, w);
            double cap = c.logitSoftcap();
            return cap > 0 ? b.scale(b.unary(UnaryFn.TANH, b.scale(logits, 1 / cap)), cap) : logits;
        }
    }

    /**
     * U-Net skips as parameter golf's GPT: the first floor(L/2) layers (encoder) push their outputs;
     * each later layer k first adds {@code skip_weights.<k> ⊙ pop()} while the stack is not empty
     * (an odd layer count leaves the last decoder layer without a skip).
     */
    private static Value unet(ModelContext ctx, List<BlockSpec> layers, Value x) {
        ProgramBuilder b = ctx.builder();
        int enc = layers.size() / 2, dec = layers.size() - enc;
        Deque<Value> skips = new ArrayDeque<>();
        for (int i = 0; i < enc; i++) {
            x = Blocks.apply(ctx, layers.get(i), i, x);
            skips.push(x);
        }
        for (int k = 0; k < dec; k++) {
            if (!skips.isEmpty()) {
                try (var s = b.scope("skip." + k)) {
                    x = b.add(x, b.mul(skips.pop(), ctx.control("skip_weights." + k, ctx.dim(), 1)));
                }
            }
            x = Blocks.apply(ctx, layers.get(enc + k), enc + k, x);
        }
        return x;
    }

    /** Whether a training program of this config needs the dropout seed input. */
    public static boolean needsSeed(Config c) {
        return c.dropout() > 0;
    }
}
