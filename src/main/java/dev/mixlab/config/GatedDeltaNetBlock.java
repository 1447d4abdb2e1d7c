package dev.mixlab.config;

/**
 * {@code "type": "gated_deltanet"}: pre-norm Gated DeltaNet mixer (gated delta rule, as in
 * flash-linear-attention and Qwen3-Next) followed by the FFN tail of {@code plain}.
 *
 * @param heads      query/key heads
 * @param headDim    key (and query) width per head, d_k; model_dim / heads unless the config sets it
 * @param convSize   kernel size of the short causal depthwise convolutions on q, k, v
 * @param expandV    value width per head is head_dim·expand_v
 * @param activation FFN nonlinearity (used by the {@code mlp} tail)
 * @param ffn        FFN tail after the mixer
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 * @param valueHeads value heads (a multiple of heads; grouped value heads as Qwen3-Next and flash-linear-attention's
 *                   num_v_heads): each query/key head serves valueHeads/heads consecutive value heads, each with its
 *                   own state, β and decay
 */
public record GatedDeltaNetBlock(int heads, int headDim, int convSize, int expandV, Activation activation, FfnType ffn,
                                 double mlpMult, int repeat, int valueHeads) implements MixerSpec {
    /** As many value heads as query/key heads. */
    public GatedDeltaNetBlock(int heads, int headDim, int convSize, int expandV, Activation activation, FfnType ffn,
                              double mlpMult, int repeat) {
        this(heads, headDim, convSize, expandV, activation, ffn, mlpMult, repeat, heads);
    }

    /** JSON type name. */
    public static final String TYPE = "gated_deltanet";

    @Override public String type() { return TYPE; }

    @Override public GatedDeltaNetBlock withRepeat(int repeat) {
        return new GatedDeltaNetBlock(heads, headDim, convSize, expandV, activation, ffn, mlpMult, repeat, valueHeads);
    }

    /** Value width per head. */
    public int valueDim() {
        return headDim * expandV;
    }
}
