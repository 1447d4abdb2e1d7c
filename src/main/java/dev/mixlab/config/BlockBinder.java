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
            case MlpBlock.TYPE -> new MlpBlock(r.enumValue("activation", Activation.values()), mlpMult, repeat);
            case SwigluBlock.TYPE -> new SwigluBlock(mlpMult, repeat);
            case RetnetBlock.TYPE -> retnet(r, mlpMult, repeat);
            case MlstmBlock.TYPE -> mlstm(r, mlpMult, repeat);
            case RwkvBlock.TYPE -> rwkv(r, mlpMult, repeat);
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
        return new PlainBlock(heads, kvHeads, headDim, r.enumValue("activation", Activation.values()),
                r.enumValue("ffn", FfnType.values()), mlpMult, repeat, window, softcap, r.bool("alibi"));
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
