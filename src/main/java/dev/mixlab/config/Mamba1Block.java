package dev.mixlab.config;

/**
 * {@code "type": "mamba"}: pre-norm Mamba (Gu & Dao, the selective scan of Mamba-1, as in Jamba) followed
 * by the FFN tail of {@code plain}.
 *
 * @param dState     state size N per channel
 * @param expand     inner width is expand·model_dim (one state of N per inner channel)
 * @param convSize   kernel size of the short causal depthwise convolution on x
 * @param dtRank     width of the step-size projection's bottleneck (x_proj → dt_rank → dt_proj)
 * @param dtNorm     RMSNorm (with weights) on the dt, B and C projections (Jamba)
 * @param activation FFN nonlinearity (used by the {@code mlp} tail)
 * @param ffn        FFN tail after the mixer
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record Mamba1Block(int dState, int expand, int convSize, int dtRank, boolean dtNorm, Activation activation, FfnType ffn,
                          double mlpMult, int repeat) implements MixerSpec {
    /** JSON type name. */
    public static final String TYPE = "mamba";

    @Override public String type() { return TYPE; }

    @Override public Mamba1Block withRepeat(int repeat) {
        return new Mamba1Block(dState, expand, convSize, dtRank, dtNorm, activation, ffn, mlpMult, repeat);
    }
}
