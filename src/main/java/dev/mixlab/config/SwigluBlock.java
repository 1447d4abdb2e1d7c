package dev.mixlab.config;

/**
 * {@code "type": "swiglu"}: pre-norm residual SwiGLU feed-forward block (no attention).
 *
 * @param mlpMult hidden width is round(model_dim * mlpMult)
 * @param repeat  number of identical consecutive layers
 */
public record SwigluBlock(double mlpMult, int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "swiglu";

    @Override public String type() { return TYPE; }

    @Override public SwigluBlock withRepeat(int repeat) { return new SwigluBlock(mlpMult, repeat); }
}
