package dev.mixlab.config;

/**
 * {@code "type": "gated_deltanet"}: pre-norm Gated DeltaNet mixer (gated delta rule, as in
 * flash-linear-attention and Qwen3-Next) followed by the FFN tail of {@code plain}.
 *
 * @param heads      recurrent heads
 * @param headDim    key (and query) width per head, d_k; model_dim / heads unless the config sets it
 * @param convSize   kernel size of the short causal depthwise convolutions on q, k, v
 * @param expandV    value width per head is head_dim·expand_v
 * @param activation FFN nonlinearity (used by the {@code mlp} tail)
 * @param ffn        FFN tail after the mixer
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record GatedDeltaNetBlock(int heads, int headDim, int convSize, int expandV, Activation activation, FfnType ffn,
                                 double mlpMult, int repeat) implements MixerSpec {
    /** JSON type name. */
    public static final String TYPE = "gated_deltanet";

    @Override public String type() { return TYPE; }

    @Override public GatedDeltaNetBlock withRepeat(int repeat) {
        return new GatedDeltaNetBlock(heads, headDim, convSize, expandV, activation, ffn, mlpMult, repeat);
    }

    /** Value width per head. */
    public int valueDim() {
        return headDim * expandV;
    }
}
