package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

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
                    "add \"type\": one of " + String.join(", ", BlockPlugins.allTypes()));
        }
        if (!t.isTextual()) {
            throw new ConfigException(file, typePtr, "expected a string, got " + FieldReader.describe(t),
                    "use one of " + String.join(", ", BlockPlugins.allTypes()));
        }
        SectionDoc section = Schema.block(t.textValue());
        if (section == null) {
            var plugin = BlockPlugins.installed().get(t.textValue());
            if (plugin != null) return plugin(pointer, node, plugin);
            List<String> types = BlockPlugins.allTypes();
            throw new ConfigException(file, typePtr, FieldReader.badChoice("block type", t.textValue(), types),
                    "did you mean \"" + Suggest.closest(t.textValue(), types) + "\"?");
        }
        FieldReader r = new FieldReader(file, pointer, node, section);
        int repeat = ConfigBinder.positive(r, "repeat", r.integer("repeat"));
        if (t.textValue().equals(GroupBlock.TYPE)) return group(r, node, repeat);
        double mlpMult = mlpMult(r);
        return switch (t.textValue()) {
            case PlainBlock.TYPE -> plain(r, mlpMult, repeat);
            case MlaBlock.TYPE -> mla(r, mlpMult, repeat);
            case MlpBlock.TYPE -> new MlpBlock(r.enumValue("activation", Activation.values()), mlpMult, repeat);
            case SwigluBlock.TYPE -> new SwigluBlock(mlpMult, repeat);
            case MoeBlock.TYPE -> moe(r, mlpMult, repeat);
            case RetnetBlock.TYPE -> retnet(r, mlpMult, repeat);
            case MlstmBlock.TYPE -> mlstm(r, mlpMult, repeat);
            case RwkvBlock.TYPE -> rwkv(r, mlpMult, repeat);
            case GatedDeltaNetBlock.TYPE -> gatedDeltaNet(r, mlpMult, repeat);
            case Mamba2Block.TYPE -> mamba2(r, mlpMult, repeat);
            case Mamba1Block.TYPE -> mamba(r, mlpMult, repeat);
            default -> throw new IllegalStateException("block type without binder: " + t.textValue());
        };
    }

    /** A plug-in block: its declared fields, read strictly, then parsed by the provider. */
    private PluginBlock plugin(String pointer, JsonNode node, dev.mixlab.arch.BlockProvider<?> provider) {
        FieldReader r = new FieldReader(file, pointer, node, BlockPlugins.section(provider));
        int repeat = ConfigBinder.positive(r, "repeat", r.integer("repeat"));
        double mlpMult = mlpMult(r);
        Record spec = provider.parse(new BlockFields(r, modelDim, mlpMult));
        ObjectNode fields = ((ObjectNode) node).deepCopy();
        fields.remove(List.of("type", "repeat", "mlp_mult"));
        return new PluginBlock(provider, spec, fields, mlpMult, repeat);
    }

    /** {@code group}: binds the sub-list (each entry at {@code <pointer>/blocks/<j>}, groups may nest). */
    private GroupBlock group(FieldReader r, JsonNode node, int repeat) {
        JsonNode arr = r.node("blocks");
        r.check(arr.isArray(), "blocks", "expected an array of blocks, got " + FieldReader.describe(arr),
                "write \"blocks\": [{\"type\": \"plain\", \"heads\": 4}, ...]");
        r.check(!arr.isEmpty(), "blocks", "a group must contain at least one block", "add blocks or remove the group");
        List<BlockSpec> blocks = new java.util.ArrayList<>();
        for (int j = 0; j < arr.size(); j++) blocks.add(bind(r.at("blocks") + "/" + j, arr.get(j)));
        return new GroupBlock(blocks, repeat);
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
        int chunk = r.integer("attn_chunk_size");
        r.check(chunk >= 0, "attn_chunk_size", "attn_chunk_size " + chunk + " is negative",
                "use 0 for no chunks or N > 0 for chunks of N tokens");
        String pattern = r.optString("layer_pattern");
        if (pattern == null) pattern = "";
        r.check(pattern.matches("[LG]*"), "layer_pattern", "layer_pattern \"" + pattern + "\" has characters other than L and G",
                "write e.g. \"LLLLLG\": L = local (window_size / attn_chunk_size), G = global (full causal attention)");
        r.check(pattern.isEmpty() || window > 0 || chunk > 0, "layer_pattern",
                "layer_pattern needs local layers to differ from global ones, but window_size and attn_chunk_size are 0",
                "set window_size (sliding window) or attn_chunk_size (chunks) for the L layers");
        boolean alibi = r.bool("alibi"), differential = r.bool("differential"), outputGate = r.bool("output_gate");
        double ropeBase = r.number("rope_base"), globalRopeBase = r.number("global_rope_base");
        boolean nope = r.bool("nope"), globalNope = r.bool("global_nope");
        boolean[] set = {ropeBase != 0, nope, globalRopeBase != 0, globalNope};
        String[] keys = {"rope_base", "nope", "global_rope_base", "global_nope"};
        for (int i = 0; i < keys.length; i++) {
            r.check(!set[i] || pos == PositionalEmbedding.ROPE, keys[i], keys[i] + " needs positional_embedding \"rope\", got \""
                    + pos.jsonName() + "\"", "set \"positional_embedding\": \"rope\" or remove " + keys[i]);
        }
        r.check(ropeBase >= 0, "rope_base", "rope_base " + ropeBase + " is negative", "use e.g. 10000, or 0 for the model's rope_base");
        r.check(globalRopeBase >= 0, "global_rope_base", "global_rope_base " + globalRopeBase + " is negative",
                "use e.g. 1000000, or 0 for the local layers' base");
        r.check(!pattern.isEmpty() || (globalRopeBase == 0 && !globalNope), globalNope ? "global_nope" : "global_rope_base",
                "global RoPE settings need a layer_pattern with G layers", "add e.g. \"layer_pattern\": \"LLLLLG\"");
        if (differential) {
            r.check(headDim % 2 == 0 && (pos != PositionalEmbedding.ROPE || headDim % 4 == 0), "differential",
                    "differential attention splits head_dim " + headDim + " into two query/key maps of head_dim/2"
                            + (pos == PositionalEmbedding.ROPE ? ", which rope needs even" : ""),
                    "use a head_dim divisible by " + (pos == PositionalEmbedding.ROPE ? 4 : 2));
            r.check(ropeDims <= headDim / 2, "differential", "rope_dims " + ropeDims + " exceeds the query/key width head_dim/2 = "
                    + headDim / 2, "use rope_dims <= " + headDim / 2);
            r.check(kvHeads == heads, "differential", "differential attention needs kv_heads == heads, got " + kvHeads + " and " + heads,
                    "remove kv_heads");
            r.check(!alibi, "differential", "differential attention does not take alibi", "remove alibi or differential");
            r.check(!outputGate, "output_gate", "differential attention does not take output_gate", "remove output_gate or differential");
        }
        FfnType ffn = ffnTail(r);
        return new PlainBlock(heads, kvHeads, headDim, r.enumValue("activation", Activation.values()),
                ffn, mlpMult, repeat, window, softcap, alibi, chunk, pattern, differential,
                ropeBase, nope, globalRopeBase, globalNope, outputGate);
    }

    private MoeBlock moe(FieldReader r, double mlpMult, int repeat) {
        MixerType kind = r.enumValue("mixer", MixerType.values());
        // another mixer's fields would be silently ignored: name the first one given
        List<String> own = Schema.MOE_MIXER_FIELDS.get(kind);
        for (MixerType other : MixerType.values()) {
            for (String f : Schema.MOE_MIXER_FIELDS.get(other)) {
                r.check(own.contains(f) || r.node(f) == null, f, f + " is a field of the " + other.jsonName()
                                + " mixer, but this moe block has \"mixer\": \"" + kind.jsonName() + "\"",
                        "remove " + f + ", or set \"mixer\": \"" + other.jsonName() + "\"");
            }
        }
        if (kind == MixerType.MAMBA2 || kind == MixerType.MAMBA) {
            r.check(r.node("heads") == null, "heads", "a " + kind.jsonName() + " mixer has no heads field",
                    kind == MixerType.MAMBA2 ? "remove heads; set head_dim or expand" : "remove heads; set d_state or expand");
        } else {
            r.check(r.node("heads") != null, "heads", "missing required field", "add \"heads\" (integer > 0)");
        }
        // the mixer half is one layer's (repeat 1); the moe block carries the repeat
        MixerSpec mixer = switch (kind) {
            case PLAIN -> plain(r, mlpMult, 1);
            case MLA -> mla(r, mlpMult, 1);
            case GATED_DELTANET -> gatedDeltaNet(r, mlpMult, 1);
            case MAMBA2 -> mamba2(r, mlpMult, 1);
            case MAMBA -> mamba(r, mlpMult, 1);
        };
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
        boolean sharedGate = r.bool("shared_expert_gate");
        r.check(!sharedGate || shared > 0, "shared_expert_gate", "shared_expert_gate needs shared experts, but shared_experts is 0",
                "set shared_experts (e.g. 1) or remove shared_expert_gate");
        return new MoeBlock(mixer, experts, topK, ffn, expertMult, shared, router, auxCoef, r.bool("bias_balancing"), rate, cf,
                mlpMult, repeat, sharedGate);
    }

    /** The block's {@code ffn} tail; inside a {@code moe} block (no such field) none: the experts replace it. */
    private static FfnType ffnTail(FieldReader r) {
        return r.section().names().contains("ffn") ? r.enumValue("ffn", FfnType.values()) : FfnType.NONE;
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
                ffnTail(r), mlpMult, repeat);
    }

    private RetnetBlock retnet(FieldReader r, double mlpMult, int repeat) {
        int heads = ConfigBinder.positive(r, "heads", r.integer("heads"));
        int headDim = headDim(r, heads, pos == PositionalEmbedding.ROPE);
        if (pos == PositionalEmbedding.ROPE) {
            r.check(ropeDims <= headDim, r.optInteger("head_dim") != null ? "head_dim" : "heads",
                    "head_dim " + headDim + " is smaller than rope_dims " + ropeDims,
                    "use rope_dims <= " + headDim + " (0 rotates the whole head) or wider heads");
        }
        Integer v = r.optInteger("value_dim");
        int valueDim = v == null ? 2 * headDim : ConfigBinder.positive(r, "value_dim", v);
        return new RetnetBlock(heads, headDim, valueDim, r.enumValue("activation", Activation.values()),
                r.enumValue("ffn", FfnType.values()), mlpMult, repeat);
    }

    private MlstmBlock mlstm(FieldReader r, double mlpMult, int repeat) {
        int heads = ConfigBinder.positive(r, "heads", r.integer("heads"));
        return new MlstmBlock(heads, headDim(r, heads, false), r.enumValue("activation", Activation.values()),
                r.enumValue("ffn", FfnType.values()), mlpMult, repeat);
    }

    private RwkvBlock rwkv(FieldReader r, double mlpMult, int repeat) {
        int hs = ConfigBinder.positive(r, "head_size", r.integer("head_size"));
        r.check(modelDim % hs == 0, "head_size", "head_size " + hs + " does not divide model_dim " + modelDim,
                "choose head_size so that model_dim % head_size == 0" + nearDivisors(modelDim, hs));
        return new RwkvBlock(hs, ConfigBinder.positive(r, "mix_lora_dim", r.integer("mix_lora_dim")),
                ConfigBinder.positive(r, "decay_lora_dim", r.integer("decay_lora_dim")), mlpMult, repeat);
    }

    /** {@code head_dim} if set, else model_dim / heads, which must then divide evenly (and be even when {@code even}). */
    private int headDim(FieldReader r, int heads, boolean even) {
        Integer explicit = r.optInteger("head_dim");
        if (explicit != null) {
            int hd = ConfigBinder.positive(r, "head_dim", explicit);
            r.check(!even || hd % 2 == 0, "head_dim", "head_dim " + hd + " is odd, but rope needs it even", "use an even head_dim");
            return hd;
        }
        r.check(modelDim % heads == 0, "heads", heads + " does not divide model_dim " + modelDim,
                "choose heads so that model_dim % heads == 0" + nearDivisors(modelDim, heads) + ", or set head_dim");
        int hd = modelDim / heads;
        r.check(!even || hd % 2 == 0, "heads",
                "head_dim = model_dim " + modelDim + " / heads " + heads + " = " + hd + " is odd, but rope needs it even",
                "choose heads so that model_dim / heads is even" + nearEvenHeadDims(heads));
        return hd;
    }

    private GatedDeltaNetBlock gatedDeltaNet(FieldReader r, double mlpMult, int repeat) {
        int heads = ConfigBinder.positive(r, "heads", r.integer("heads"));
        Integer explicitHeadDim = r.optInteger("head_dim");
        int headDim;
        if (explicitHeadDim != null) {
            headDim = ConfigBinder.positive(r, "head_dim", explicitHeadDim);
        } else {
            r.check(modelDim % heads == 0, "heads", heads + " does not divide model_dim " + modelDim,
                    "choose heads so that model_dim % heads == 0" + nearDivisors(modelDim, heads) + ", or set head_dim");
            headDim = modelDim / heads;
        }
        int conv = ConfigBinder.positive(r, "conv_size", r.integer("conv_size"));
        int expandV = ConfigBinder.positive(r, "expand_v", r.integer("expand_v"));
        Integer vh = r.optInteger("value_heads");
        int valueHeads = vh == null ? heads : ConfigBinder.positive(r, "value_heads", vh);
        r.check(valueHeads % heads == 0, "value_heads", "value_heads " + valueHeads + " is not a multiple of heads " + heads,
                "use a multiple of heads, e.g. " + 2 * heads + ", or remove value_heads");
        return new GatedDeltaNetBlock(heads, headDim, conv, expandV, r.enumValue("activation", Activation.values()),
                ffnTail(r), mlpMult, repeat, valueHeads);
    }

    private Mamba2Block mamba2(FieldReader r, double mlpMult, int repeat) {
        // inside a moe block d_state and head_dim are shared with other mixers (no default there): mamba2's own defaults
        Integer ds = r.optInteger("d_state");
        int dState = ConfigBinder.positive(r, "d_state", ds != null ? ds : (Integer) Schema.MAMBA2.field("d_state").defaultValue());
        // inside a moe block head_dim is shared with other mixers (no default there): mamba2's own default
        Integer hd = r.optInteger("head_dim");
        int headDim = ConfigBinder.positive(r, "head_dim", hd != null ? hd : (Integer) Schema.MAMBA2.field("head_dim").defaultValue());
        int expand = ConfigBinder.positive(r, "expand", r.integer("expand"));
        int conv = ConfigBinder.positive(r, "conv_size", r.integer("conv_size"));
        int groups = ConfigBinder.positive(r, "ngroups", r.integer("ngroups"));
        int inner = expand * modelDim;
        r.check(inner % headDim == 0, "head_dim", "head_dim " + headDim + " does not divide expand·model_dim = " + inner,
                "choose head_dim so that expand·model_dim % head_dim == 0" + nearDivisors(inner, headDim));
        int heads = inner / headDim;
        r.check(heads % groups == 0, "ngroups", "ngroups " + groups + " does not divide the " + heads + " heads (expand·model_dim / head_dim)",
                "choose ngroups dividing " + heads + nearDivisors(heads, groups));
        return new Mamba2Block(dState, headDim, expand, conv, groups, r.enumValue("activation", Activation.values()),
                ffnTail(r), mlpMult, repeat);
    }

    private Mamba1Block mamba(FieldReader r, double mlpMult, int repeat) {
        // inside a moe block d_state is shared with mamba2 (whose default differs): Mamba's own default
        Integer ds = r.optInteger("d_state");
        int dState = ConfigBinder.positive(r, "d_state", ds != null ? ds : (Integer) Schema.MAMBA1.field("d_state").defaultValue());
        int expand = ConfigBinder.positive(r, "expand", r.integer("expand"));
        int conv = ConfigBinder.positive(r, "conv_size", r.integer("conv_size"));
        Integer dr = r.optInteger("dt_rank");
        int dtRank = dr != null ? ConfigBinder.positive(r, "dt_rank", dr) : (modelDim + 15) / 16;
        return new Mamba1Block(dState, expand, conv, dtRank, r.bool("dt_norm"), r.enumValue("activation", Activation.values()),
                ffnTail(r), mlpMult, repeat);
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
