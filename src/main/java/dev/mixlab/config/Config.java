package dev.mixlab.config;

import java.util.List;

/**
 * A fully resolved, validated model + training config. Build one with {@link ConfigLoader};
 * write it back with {@link ConfigWriter}. Field meanings and defaults: {@code docs/config.md}.
 *
 * @param name                run name (defaults to the file name without .json)
 * @param modelDim            residual stream width
 * @param vocabSize           vocabulary size
 * @param seqLen              context length in tokens
 * @param mlpMult             default FFN width multiplier for blocks that do not set their own
 * @param blocks              block specs in order, each possibly repeated
 * @param tieEmbeddings       share the input embedding with the output projection
 * @param dropout             dropout probability
 * @param positionalEmbedding how positions enter the model
 * @param normType            normalisation layer
 * @param normEps             normalisation epsilon
 * @param normWeight          norms have a learned gain
 * @param bias                linear and norm layers have biases
 * @param attnBias            the attention's q/k/v projections have biases (even when {@code bias} is false)
 * @param initStd             standard deviation of the weight init
 * @param ropeBase            RoPE frequency base
 * @param ropeInterleaved     RoPE rotates channel pairs (2j, 2j+1) instead of (j, j+hd/2)
 * @param ropeDims            channels of each head that RoPE rotates; 0 means all of head_dim
 * @param qkNorm              RMSNorm over head_dim of q and k before RoPE
 * @param qkNormWeight        the q/k norms have learned gains [head_dim] per layer (Qwen3, OLMo 2, Gemma 3)
 * @param qGain               learned per-head gain on q after RoPE
 * @param qkGainInit          initial value of the q gains
 * @param branchScales        learned per-channel scales on the attention and FFN branches
 * @param residMix            every layer mixes its input with the embedding output x0
 * @param unetSkips           U-Net skip connections from the first half of the layers to the second
 * @param logitSoftcap        logits become c·tanh(logits/c); 0 = off
 * @param tiedEmbedInitStd    init std of a tied token embedding
 * @param zeroInitProj        attention and FFN output projections start at zero
 * @param embedNorm           the embedding output is normalised
 * @param training            training section
 * @param data                data section
 */
public record Config(
        String name, int modelDim, int vocabSize, int seqLen, double mlpMult, List<BlockSpec> blocks,
        boolean tieEmbeddings, double dropout, PositionalEmbedding positionalEmbedding, NormType normType,
        double normEps, boolean normWeight, boolean bias, boolean attnBias, double initStd, double ropeBase,
        boolean ropeInterleaved, int ropeDims, boolean qkNorm, boolean qkNormWeight, boolean qGain, double qkGainInit,
        boolean branchScales, boolean residMix, boolean unetSkips, double logitSoftcap, double tiedEmbedInitStd,
        boolean zeroInitProj, boolean embedNorm, TrainSpec training, DataSpec data) {

    /** Copies {@code blocks} so the record stays immutable. */
    public Config {
        blocks = List.copyOf(blocks);
    }

    /** @return the channels RoPE rotates in a head of width {@code headDim} */
    public int ropeDims(int headDim) {
        return ropeDims == 0 ? headDim : ropeDims;
    }

    /** @return the std of the token embedding's init */
    public double tokEmbInitStd() {
        return tieEmbeddings ? tiedEmbedInitStd : initStd;
    }

    /**
     * @return the blocks expanded by {@code repeat}: one entry (with repeat 1) per layer, in order;
     *         this is the list the engine builds (groups flattened, layer patterns resolved)
     */
    public List<BlockSpec> layers() {
        return BlockSpec.layers(blocks);
    }
}
