package dev.mixlab.config;

/**
 * {@code "type": "plain"}: pre-norm causal multi-head attention followed by its FFN tail.
 *
 * @param heads      attention heads (divides model_dim)
 * @param kvHeads    key/value heads (divides heads; fewer than heads means grouped-query attention)
 * @param headDim    width of each head; model_dim / heads unless the config sets it
 * @param activation FFN nonlinearity (ignored by {@code swiglu} and {@code none} tails)
 * @param ffn        FFN tail after attention
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult,
                         int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "plain";

    @Override public String type() { return TYPE; }

    @Override public PlainBlock withRepeat(int repeat) {
        return new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat);
    }
}
