package dev.mixlab.config;

/**
 * {@code "type": "mlp"}: pre-norm residual feed-forward block (no attention).
 *
 * @param activation nonlinearity between the two projections
 * @param mlpMult    hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 */
public record MlpBlock(Activation activation, double mlpMult, int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "mlp";

    @Override public String type() { return TYPE; }

    @Override public MlpBlock withRepeat(int repeat) { return new MlpBlock(activation, mlpMult, repeat); }
}
