package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;

/** Binds one entry of {@code blocks}; needs top-level values that block checks depend on. */
final class BlockBinder {
    private final String file;
    private final int modelDim;
    private final double defaultMlpMult;
    private final PositionalEmbedding pos;
    private final int ropeDims;

    BlockBinder(String file, int modelDim, double defaultMlpMult, PositionalEmbedding pos, int ropeDims) {
        this.file = file;
        this.modelDim = modelDim;
        this.defaultMlpMult = defaultMlpMult;
        this.pos = pos;
        this.ropeDims = ropeDims;
    }

    BlockSpec bind(String pointer, JsonNode node) {
        if (!node.isObject()) {
            throw new ConfigException(file, pointer, "expected a block object, got " + FieldReader.describe(node),
                    "write {\"type\": \"plain\", ...}");
        }
        String typePtr = FieldReader.child(pointer, "type");
        JsonNode t = node.get("type");
        if (t == null) {
            throw new ConfigException(file, typePtr, "missing required field",
                    "add \"type\": one of " + String.join(", ", Schema.BLOCK_TYPES));
        }
        if (!t.isTextual()) {
            throw new ConfigException(file, typePtr, "expected a string, got " + FieldReader.describe(t),
                    "use one of " + String.join(", ", Schema.BLOCK_TYPES));
        }
        SectionDoc section = Schema.block(t.textValue());
        if (section == null) {
            throw new ConfigException(file, typePtr, FieldReader.badChoice("block type", t.textValue(), Schema.BLOCK_TYPES),
                    "did you mean \"" + Suggest.closest(t.textValue(), Schema.BLOCK_TYPES) + "\"?");
        }
        FieldReader r = new FieldReader(file, pointer, node, section);
        double mlpMult = mlpMult(r);
        int repeat = ConfigBinder.positive(r, "repeat", r.integer("repeat"));
        return switch (t.textValue()) {
            case PlainBlock.TYPE -> plain(r, mlpMult, repeat);
            case MlaBlock.TYPE -> mla(r, mlpMult, repeat);
            case MlpBlock.TYPE -> new MlpBlock(r.enumValue("activation", Activation.values()), mlpMult, repeat);
            case SwigluBlock.TYPE -> new SwigluBlock(mlpMult, repeat);
            case MoeBlock.TYPE -> moe(r, mlpMult, repeat);
            default -> throw new IllegalStateException("block type without binder: " + t.textValue());
        };
    }

    private double mlpMult(FieldReader r) {
        Double m = r.optNumber("mlp_mult");
        if (m == null) return defaultMlpMult; // already checked at the top level
        ConfigBinder.checkMlpMult(r, "mlp_mult", modelDim, m);
        return m;
    }

    private PlainBlock plain(FieldReader r, double mlpMult, int repeat) {
        int heads = ConfigBinder.positive(r, "heads", r.integer("heads"));
        Integer explicitHeadDim = r.optInteger("head_dim");
        int headDim;
        if (explicitHeadDim != null) {
            headDim = ConfigBinder.positive(r, "head_dim", explicitHeadDim);
            r.check(pos != PositionalEmbedding.ROPE || headDim % 2 == 0, "head_dim",
                    "head_dim " + headDim + " is odd, but rope needs it even", "use an even head_dim");
        } else {
            r.check(modelDim % heads == 0, "heads", heads + " does not divide model_dim " + modelDim,
                    "choose heads so that model_dim % heads == 0" + nearDivisors(modelDim, heads) + ", or set head_dim");
            headDim = modelDim / heads;
            r.check(pos != PositionalEmbedding.ROPE || headDim % 2 == 0, "heads",
                    "head_dim = model_dim " + modelDim + " / heads " + heads + " = " + headDim + " is odd, but rope needs it even",
                    "choose heads so that model_dim / heads is even" + nearEvenHeadDims(heads));
        }
        r.check(ropeDims <= headDim, explicitHeadDim != null ? "head_dim" : "heads",
                "head_dim " + headDim + " is smaller than rope_dims " + ropeDims,
                "use rope_dims <= " + headDim + " (0 rotates the whole head) or wider heads");
        Integer kv = r.optInteger("kv_heads");
        int kvHeads = kv == null ? heads : ConfigBinder.positive(r, "kv_heads", kv);
        r.check(heads % kvHeads == 0, "kv_heads", kvHeads + " does not divide heads " + heads,
                "choose kv_heads so that heads % kv_heads == 0" + nearDivisors(heads, kvHeads));
        int window = r.integer("window_size");
        r.check(window >= 0, "window_size", "window_size " + window + " is negative",
                "use 0 for full causal attention or w > 0 for a sliding window of w keys");
        double softcap = r.number("attn_softcap");
        r.check(softcap >= 0 && Double.isFinite(softcap), "attn_softcap", "attn_softcap " + softcap + " is not a finite number >= 0",
                "use e.g. 50, or 0 to turn the attention logit softcap off");
        FfnType ffn = r.section().names().contains("ffn") ? r.enumValue("ffn", FfnType.values()) : FfnType.NONE;
        return new PlainBlock(heads, kvHeads, headDim, r.enumValue("activation", Activation.values()),
                ffn, mlpMult, repeat, window, softcap, r.bool("alibi"));
    }

    private MoeBlock moe(FieldReader r, double mlpMult, int repeat) {
        PlainBlock attn = plain(r, mlpMult, repeat);
        int experts = r.integer("experts");
        r.check(experts >= 2, "experts", "experts " + experts + " must be >= 2", "use e.g. 8 (a single expert is a dense FFN: use plain)");
        int topK = r.integer("top_k");
        r.check(topK >= 1 && topK <= experts, "top_k", "top_k " + topK + " is not in 1.." + experts, "use e.g. 2");
        FfnType ffn = r.enumValue("expert_ffn", FfnType.values());
        r.check(ffn != FfnType.NONE, "expert_ffn", "an expert needs an FFN", "use \"swiglu\" or \"mlp\"");
        Double em = r.optNumber("expert_mult");
        double expertMult = em == null ? mlpMult : em;
        if (em != null) ConfigBinder.checkMlpMult(r, "expert_mult", modelDim, em);
        int shared = r.integer("shared_experts");
        r.check(shared >= 0, "shared_experts", "shared_experts " + shared + " is negative", "use 0 (none) or e.g. 1");
        RouterType router = r.enumValue("router", RouterType.values());
        Double aux = r.optNumber("aux_loss_coef");
        double auxCoef = aux != null ? aux : router == RouterType.SOFTMAX ? 0.01 : 0;
        r.check(auxCoef >= 0 && Double.isFinite(auxCoef), "aux_loss_coef", "aux_loss_coef " + auxCoef + " is not a finite number >= 0",
                "use e.g. 0.01, or 0 to turn the load-balancing loss off");
        double rate = r.number("bias_update_rate");
        r.check(rate > 0 && Double.isFinite(rate), "bias_update_rate", "bias_update_rate " + rate + " must be > 0", "use e.g. 0.001");
        double cf = r.number("capacity_factor");
        r.check(cf >= 0 && Double.isFinite(cf), "capacity_factor", "capacity_factor " + cf + " must be >= 0",
                "use 0 for no capacity limit or e.g. 1.25");
        return new MoeBlock(attn, experts, topK, ffn, expertMult, shared, router, auxCoef, r.bool("bias_balancing"), rate, cf,
                mlpMult, repeat);
    }

    private MlaBlock mla(FieldReader r, double mlpMult, int repeat) {
        int heads = ConfigBinder.positive(r, "heads", r.integer("heads"));
        Integer nopeSet = r.optInteger("qk_nope_head_dim");
        int nope;
        if (nopeSet != null) {
            nope = ConfigBinder.positive(r, "qk_nope_head_dim", nopeSet);
        } else {
            r.check(modelDim % heads == 0, "heads", heads + " does not divide model_dim " + modelDim,
                    "choose heads so that model_dim % heads == 0" + nearDivisors(modelDim, heads) + ", or set qk_nope_head_dim");
            nope = modelDim / heads;
        }
        Integer ropeSet = r.optInteger("qk_rope_head_dim");
        int rope = ropeSet != null ? ropeSet : nope / 2 / 2 * 2;
        r.check(rope >= 0 && rope % 2 == 0, "qk_rope_head_dim", "qk_rope_head_dim " + rope + " is not an even number >= 0",
                "use an even width such as " + Math.max(2, rope / 2 * 2) + ", or 0 for no decoupled RoPE");
        Integer vSet = r.optInteger("v_head_dim");
        int v = vSet != null ? ConfigBinder.positive(r, "v_head_dim", vSet) : nope;
        Integer kvSet = r.optInteger("kv_lora_rank");
        int kvRank = kvSet != null ? ConfigBinder.positive(r, "kv_lora_rank", kvSet) : 4 * nope;
        int qRank = r.integer("q_lora_rank");
        r.check(qRank >= 0, "q_lora_rank", "q_lora_rank " + qRank + " is negative",
                "use 0 to project queries straight from the input, or a positive latent width");
        return new MlaBlock(heads, kvRank, qRank, nope, rope, v, r.enumValue("activation", Activation.values()),
                r.enumValue("ffn", FfnType.values()), mlpMult, repeat);
    }

    /** @return e.g. " (e.g. 4 or 6)": the divisors of {@code n} just below and above {@code near} */
    private static String nearDivisors(int n, int near) {
        int lo = -1, hi = -1;
        for (int d = Math.min(near, n); d >= 1; d--) if (n % d == 0) { lo = d; break; }
        for (int d = Math.max(near, 1); d <= n; d++) if (n % d == 0) { hi = d; break; }
        if (lo > 0 && hi > 0 && lo != hi) return " (e.g. " + lo + " or " + hi + ")";
        return lo > 0 ? " (e.g. " + lo + ")" : "";
    }

    private String nearEvenHeadDims(int heads) {
        for (int d = 1; d <= modelDim; d++) {
            for (int h : new int[] {heads - d, heads + d}) {
                if (h > 0 && modelDim % h == 0 && (modelDim / h) % 2 == 0) return " (e.g. " + h + ")";
            }
        }
        return "";
    }
}
