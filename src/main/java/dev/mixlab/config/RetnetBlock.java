package dev.mixlab.config;

/**
 * {@code "type": "retnet"}: RetNet (Sun et al. 2023): pre-norm multi-scale retention (per-head decays
 * γ_h = 1 − 2^(−5−h), a weightless group norm per head, a swish gate) followed by its FFN tail.
 *
 * @param heads      retention heads
 * @param headDim    query/key width per head; model_dim / heads unless the config sets it
 * @param valueDim   value width per head; 2·headDim unless the config sets it (the paper's value factor 2)
 * @param activation FFN nonlinearity (ignored by {@code swiglu} and {@code none} tails)
 * @param ffn        FFN tail after retention
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record RetnetBlock(int heads, int headDim, int valueDim, Activation activation, FfnType ffn, double mlpMult, int repeat)
        implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "retnet";

    @Override public String type() { return TYPE; }

    @Override public RetnetBlock withRepeat(int repeat) {
        return new RetnetBlock(heads, headDim, valueDim, activation, ffn, mlpMult, repeat);
    }
}
