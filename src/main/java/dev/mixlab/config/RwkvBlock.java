package dev.mixlab.config;

/**
 * {@code "type": "rwkv"}: an RWKV-6 ("Finch", Peng et al. 2024) layer: pre-norm time mixing (data-dependent
 * token shift, wkv with data-dependent per-channel decay and bonus, per-head group norm, silu gate)
 * then pre-norm channel mixing (token shift, squared-ReLU key, sigmoid receptance), which replaces the FFN.
 *
 * @param headSize     width of each wkv head (heads = model_dim / headSize)
 * @param mixLoraDim   rank of the five token-shift LoRAs (ddlerp)
 * @param decayLoraDim rank of the decay LoRA
 * @param mlpMult      channel-mix hidden width is round(model_dim * mlpMult)
 * @param repeat       number of identical consecutive layers
 */
public record RwkvBlock(int headSize, int mixLoraDim, int decayLoraDim, double mlpMult, int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "rwkv";

    @Override public String type() { return TYPE; }

    @Override public RwkvBlock withRepeat(int repeat) { return new RwkvBlock(headSize, mixLoraDim, decayLoraDim, mlpMult, repeat); }
}
