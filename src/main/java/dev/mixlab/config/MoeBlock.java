package dev.mixlab.config;

/**
 * {@code "type": "moe"}: pre-norm causal attention (as {@code plain}) followed by a mixture-of-experts
 * FFN: a router picks {@code topK} of {@code experts} FFN experts per token, their outputs are summed
 * with the normalised router weights, plus {@code sharedExperts} always-on experts.
 *
 * @param attention      the attention half: heads, kv_heads, head_dim, window, softcap, alibi and the
 *                       experts' activation, as a {@code plain} block without its FFN
 * @param experts        routed experts
 * @param topK           experts per token
 * @param expertFfn      the expert's FFN ({@code mlp} with {@code activation}, or {@code swiglu})
 * @param expertMult     expert hidden width is round(model_dim · expertMult)
 * @param sharedExperts  always-on experts (one dense FFN of sharedExperts · expert width)
 * @param router         softmax (Mixtral) or sigmoid (DeepSeek-V3) affinities, normalised over the top k
 * @param auxLossCoef    weight of the Switch/GShard load-balancing loss added to the training loss; 0 = off
 * @param biasBalancing  DeepSeek-V3 auxiliary-loss-free balancing: a per-expert routing bias, updated every step
 * @param biasUpdateRate the bias step: b_i += rate · sign(mean load − load_i)
 * @param capacityFactor 0 = no limit; else each expert keeps ceil(factor · tokens · topK / experts) tokens per batch
 * @param mlpMult        the top-level/block FFN multiplier (expertMult's default)
 * @param repeat         number of identical consecutive layers
 */
public record MoeBlock(PlainBlock attention, int experts, int topK, FfnType expertFfn, double expertMult, int sharedExperts,
                       RouterType router, double auxLossCoef, boolean biasBalancing, double biasUpdateRate,
                       double capacityFactor, double mlpMult, int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "moe";

    @Override public String type() { return TYPE; }

    @Override public MoeBlock withRepeat(int repeat) {
        return new MoeBlock(attention, experts, topK, expertFfn, expertMult, sharedExperts, router, auxLossCoef, biasBalancing,
                biasUpdateRate, capacityFactor, mlpMult, repeat);
    }

    /** Per-expert token capacity for {@code tokens} tokens in one batch; 0 = unlimited. */
    public int capacity(int tokens) {
        return capacityFactor > 0 ? (int) Math.ceil(capacityFactor * tokens * topK / experts) : 0;
    }
}
