package dev.mixlab.train;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.Config;
import dev.mixlab.config.MlaBlock;
import dev.mixlab.config.MoeBlock;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.passes.MemoryPlan;

/**
 * Static facts about a config, computed from its IR without running anything: exact parameter
 * count (total, and active per token for mixture-of-experts models), FLOPs per token (counted op by op from the IR, and by the usual formula), memory.
 */
public record ModelReport(String name, int layers, long parameters, long activeParameters, long positionParameters, int batch, int seqLen,
                          long forwardFlopsPerToken, long trainFlopsPerToken, long formulaFlopsPerToken,
                          long paramBytes, long optimizerBytes, long activationBytes, int trainOps, int forwardOps,
                          long kvCacheBytesPerToken, long mhaKvCacheBytesPerToken) {

    public static ModelReport of(Config c) {
        int batch = Programs.batch(c);
        Program step = Programs.trainStep(c, batch);
        Program fwd = Programs.eval(c, batch);
        long tokens = (long) batch * c.seqLen();
        long params = step.parameterCount();
        long pos = 0;
        for (Value p : step.params()) if (p.name().equals("pos_emb.weight")) pos = p.shape().size();
        long state = 0;
        for (Value s : step.state()) state += s.shape().size();
        long activations = MemoryPlan.plan(step).activationFloats();
        int attnLayers = 0;
        long cache = 0, mha = 0;
        for (var b : c.layers()) {
            if (b instanceof PlainBlock || b instanceof MlaBlock
                    || b instanceof MoeBlock m && (m.mixer() instanceof PlainBlock || m.mixer() instanceof MlaBlock)) attnLayers++;
            cache += cacheFloatsPerToken(b);
            mha += mhaCacheFloatsPerToken(b);
        }
        long active = activeParameters(c, step);
        long n = active - pos;
        long formula = 6 * n + 12L * attnLayers * c.modelDim() * c.seqLen();
        return new ModelReport(c.name(), c.layers().size(), params, active, pos, batch, c.seqLen(), fwd.flops() / tokens,
                step.flops() / tokens, formula, 4 * params, 4 * state, 4 * activations,
                step.nodes().size(), fwd.nodes().size(), 4 * cache, 4 * mha);
    }

    /**
     * Floats per token that one layer of this block keeps in the generation cache: keys and values of
     * its kv heads ({@code plain}, and the attention of {@code moe}), or the latent and the shared RoPE key ({@code mla}); 0 without attention.
     */
    public static long cacheFloatsPerToken(BlockSpec b) {
        return switch (b) {
            case PlainBlock p -> 2L * p.kvHeads() * p.headDim();
            case MlaBlock m -> (long) m.kvLoraRank() + m.qkRopeHeadDim();
            case MoeBlock m -> cacheFloatsPerToken(m.mixer());
            default -> 0;
        };
    }

    /** Floats per token multi-head attention with this block's heads and head widths would cache: every head's key and value. */
    public static long mhaCacheFloatsPerToken(BlockSpec b) {
        return switch (b) {
            case PlainBlock p -> 2L * p.heads() * p.headDim();
            case MlaBlock m -> (long) m.heads() * (m.qkHeadDim() + m.vHeadDim());
            case MoeBlock m -> mhaCacheFloatsPerToken(m.mixer());
            default -> 0;
        };
    }

    /**
     * Parameters one token uses: all of them, except that a mixture-of-experts layer's routed experts
     * (tensors {@code blocks.<i>.moe.experts.*}, stacked [experts, ...]) count top_k of experts.
     */
    static long activeParameters(Config c, Program p) {
        long active = 0;
        for (Value v : p.params()) {
            long size = v.shape().size();
            String[] parts = v.name().split("\\.");
            if (parts.length > 3 && parts[0].equals("blocks") && parts[2].equals("moe") && parts[3].equals("experts")
                    && c.layers().get(Integer.parseInt(parts[1])) instanceof MoeBlock m) {
                size = size / m.experts() * m.topK();
            }
            active += size;
        }
        return active;
    }
}
