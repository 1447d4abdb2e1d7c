package dev.mixlab.config;

/**
 * {@code "type": "mla"}: pre-norm multi-head latent attention (DeepSeek-V2/V3) followed by the same FFN
 * tail options as {@link PlainBlock}. Keys and values are up-projected from one compressed latent per
 * token, {@code c_kv = RMSNorm(W_dkv·x)} of width {@code kvLoraRank}; a decoupled RoPE key of width
 * {@code qkRopeHeadDim} is projected from x once per token and shared by all heads. The inference
 * cache holds only {@code c_kv} and that RoPE key.
 *
 * @param heads         attention heads
 * @param kvLoraRank    width of the key/value latent c_kv (what the cache stores per token)
 * @param qLoraRank     width of the query latent c_q = RMSNorm(W_dq·x); 0 projects queries straight from x
 * @param qkNopeHeadDim per-head query/key channels without position information (up-projected from c_kv)
 * @param qkRopeHeadDim per-head query channels and shared key channels that RoPE rotates (even; 0 for none)
 * @param vHeadDim      per-head value width
 * @param activation    FFN nonlinearity (ignored by {@code swiglu} and {@code none} tails)
 * @param ffn           FFN tail after attention
 * @param mlpMult       FFN hidden width is round(model_dim * mlpMult)
 * @param repeat        number of identical consecutive layers
 */
public record MlaBlock(int heads, int kvLoraRank, int qLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim,
                       Activation activation, FfnType ffn, double mlpMult, int repeat) implements MixerSpec {
    /** JSON type name. */
    public static final String TYPE = "mla";

    @Override public String type() { return TYPE; }

    @Override public MlaBlock withRepeat(int repeat) {
        return new MlaBlock(heads, kvLoraRank, qLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, activation, ffn, mlpMult, repeat);
    }

    /** Query/key width per head: {@code qkNopeHeadDim + qkRopeHeadDim}. */
    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }
}
