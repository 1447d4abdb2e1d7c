package dev.mixlab.config;

/**
 * {@code "type": "mamba2"}: pre-norm Mamba-2 mixer (SSD) followed by the FFN tail of {@code plain}.
 *
 * @param dState     state size N per head
 * @param headDim    head width P; heads = expand·model_dim / head_dim
 * @param expand     inner width is expand·model_dim
 * @param convSize   kernel size of the short causal depthwise convolution on (x, B, C)
 * @param ngroups    groups sharing B and C (divides the heads)
 * @param activation FFN nonlinearity (used by the {@code mlp} tail)
 * @param ffn        FFN tail after the mixer
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record Mamba2Block(int dState, int headDim, int expand, int convSize, int ngroups, Activation activation, FfnType ffn,
                          double mlpMult, int repeat) implements MixerSpec {
    /** JSON type name. */
    public static final String TYPE = "mamba2";

    @Override public String type() { return TYPE; }

    @Override public Mamba2Block withRepeat(int repeat) {
        return new Mamba2Block(dState, headDim, expand, convSize, ngroups, activation, ffn, mlpMult, repeat);
    }
}
