package dev.mixlab.config;

/**
 * {@code "type": "mlstm"}: xLSTM's matrix LSTM (Beck et al. 2024) as a pre-norm residual layer: per
 * head q, k, v, an exponential input gate, a sigmoid forget gate, the stabilised matrix memory, a
 * sigmoid output gate and a weightless per-head norm, then an output projection; followed by its
 * FFN tail.
 *
 * @param heads      mLSTM heads
 * @param headDim    width of q, k and v per head; model_dim / heads unless the config sets it
 * @param activation FFN nonlinearity (ignored by {@code swiglu} and {@code none} tails)
 * @param ffn        FFN tail after the mLSTM
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record MlstmBlock(int heads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat)
        implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "mlstm";

    @Override public String type() { return TYPE; }

    @Override public MlstmBlock withRepeat(int repeat) {
        return new MlstmBlock(heads, headDim, activation, ffn, mlpMult, repeat);
    }
}
