package dev.mixlab.config;

/**
 * {@code "type": "moe"}: a pre-norm sequence mixer (the {@code plain} attention by default; with
 * {@code "mixer"} the mixer of {@code mla}, {@code gated_deltanet} or {@code mamba2}) followed by a
 * mixture-of-experts FFN: a router picks {@code topK} of {@code experts} FFN experts per token, their
 * outputs are summed with the normalised router weights, plus {@code sharedExperts} always-on experts.
 *
 * <p>Why the mixer is a choice on {@code moe} rather than an {@code "ffn": "moe"} tail on each mixer
 * block: everything that is particular to a mixture of experts (router taps, the aux loss, bias
 * balancing, active-parameter counting, expert loads) keys on this one record, and its mixer half was
 * already a record of its own; widening that half from {@link PlainBlock} to the sealed
 * {@link MixerSpec} is the whole change, whereas a MoE tail would put the ten expert fields on every
 * mixer block and make each consumer look for experts in all of them.
 *
 * @param mixer          the mixer half, a {@link MixerSpec} with FFN {@code none} (repeat 1) whose
 *                       activation is the {@code mlp} experts' nonlinearity
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
 * @param sharedExpertGate the shared experts' output scaled per token by sigmoid(x·w) (Qwen2-MoE, Qwen3-Next)
 */
public record MoeBlock(MixerSpec mixer, int experts, int topK, FfnType expertFfn, double expertMult, int sharedExperts,
                       RouterType router, double auxLossCoef, boolean biasBalancing, double biasUpdateRate,
                       double capacityFactor, double mlpMult, int repeat, boolean sharedExpertGate) implements BlockSpec {
    /** No gate on the shared experts. */
    public MoeBlock(MixerSpec mixer, int experts, int topK, FfnType expertFfn, double expertMult, int sharedExperts,
                    RouterType router, double auxLossCoef, boolean biasBalancing, double biasUpdateRate,
                    double capacityFactor, double mlpMult, int repeat) {
        this(mixer, experts, topK, expertFfn, expertMult, sharedExperts, router, auxLossCoef, biasBalancing, biasUpdateRate,
                capacityFactor, mlpMult, repeat, false);
    }

    /** JSON type name. */
    public static final String TYPE = "moe";

    @Override public String type() { return TYPE; }

    @Override public MoeBlock withRepeat(int repeat) {
        return new MoeBlock(mixer, experts, topK, expertFfn, expertMult, sharedExperts, router, auxLossCoef, biasBalancing,
                biasUpdateRate, capacityFactor, mlpMult, repeat, sharedExpertGate);
    }

    /**
     * @return one spec per layer; a {@code plain} mixer's {@code layer_pattern} is resolved as
     *         {@link PlainBlock#layers()} does it (its 'G' layers global)
     */
    @Override public java.util.List<BlockSpec> layers() {
        if (!(mixer instanceof PlainBlock p) || p.layerPattern().isEmpty()) return BlockSpec.super.layers();
        return p.withRepeat(repeat).layers().stream().map(a -> (BlockSpec) new MoeBlock((PlainBlock) a, experts, topK,
                expertFfn, expertMult, sharedExperts, router, auxLossCoef, biasBalancing, biasUpdateRate, capacityFactor,
                mlpMult, 1, sharedExpertGate)).toList();
    }

    /** Per-expert token capacity for {@code tokens} tokens in one batch; 0 = unlimited. */
    public int capacity(int tokens) {
        return capacityFactor > 0 ? (int) Math.ceil(capacityFactor * tokens * topK / experts) : 0;
    }
}
