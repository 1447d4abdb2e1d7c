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
            case GatedDeltaNetBlock.TYPE -> gatedDeltaNet(r, mlpMult, repeat);
            case Mamba2Block.TYPE -> mamba2(r, mlpMult, repeat);
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
        return new GatedDeltaNetBlock(heads, headDim, conv, expandV, r.enumValue("activation", Activation.values()),
                r.enumValue("ffn", FfnType.values()), mlpMult, repeat);
    }

    private Mamba2Block mamba2(FieldReader r, double mlpMult, int repeat) {
        int dState = ConfigBinder.positive(r, "d_state", r.integer("d_state"));
        int headDim = ConfigBinder.positive(r, "head_dim", r.integer("head_dim"));
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
