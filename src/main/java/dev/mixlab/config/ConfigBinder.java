package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Binds a parsed JSON tree to a validated {@link Config}, by hand so every error has a pointer. */
final class ConfigBinder {
    private ConfigBinder() {}

    static Config bind(JsonNode root, String file) {
        if (!root.isObject()) {
            throw new ConfigException(file, "", "expected a JSON object at the top level, got "
                    + FieldReader.describe(root), "wrap the config in { ... }");
        }
        root = PresetOverlay.apply(root, file);
        FieldReader r = new FieldReader(file, "", root, Schema.TOP);

        String name = r.optString("name");
        if (name == null) name = defaultName(file);
        r.check(!name.isBlank(), "name", "must not be empty", "give the run a name or remove the field");

        int modelDim = positive(r, "model_dim", r.integer("model_dim"));
        int vocabSize = positive(r, "vocab_size", r.integer("vocab_size"));
        int seqLen = positive(r, "seq_len", r.integer("seq_len"));
        double mlpMult = r.number("mlp_mult");
        checkMlpMult(r, "mlp_mult", modelDim, mlpMult);
        boolean tie = r.bool("tie_embeddings");
        double dropout = r.number("dropout");
        r.check(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1), got " + dropout, "use e.g. 0.0 or 0.1");
        PositionalEmbedding pos = r.enumValue("positional_embedding", PositionalEmbedding.values());
        NormType norm = r.enumValue("norm_type", NormType.values());
        double normEps = r.number("norm_eps");
        r.check(normEps > 0, "norm_eps", "must be > 0, got " + normEps, "use e.g. 1e-5");
        boolean normWeight = r.bool("norm_weight");
        boolean bias = r.bool("bias");
        boolean attnBias = r.bool("attn_bias");
        double initStd = r.number("init_std");
        r.check(initStd >= 0, "init_std", "must be >= 0, got " + initStd, "use e.g. 0.02");
        double ropeBase = r.number("rope_base");
        r.check(ropeBase > 0, "rope_base", "must be > 0, got " + ropeBase, "use e.g. 10000");
        boolean ropeInterleaved = r.bool("rope_interleaved");
        int ropeDims = r.integer("rope_dims");
        r.check(ropeDims >= 0 && ropeDims % 2 == 0, "rope_dims", "must be even and >= 0, got " + ropeDims,
                "use an even number of channels, or 0 to rotate the whole head");
        r.check(ropeDims == 0 || pos == PositionalEmbedding.ROPE, "rope_dims",
                "rope_dims " + ropeDims + " needs positional_embedding \"rope\", got \"" + pos.jsonName() + "\"",
                "set \"positional_embedding\": \"rope\" or remove rope_dims");
        boolean qkNorm = r.bool("qk_norm"), qkNormWeight = r.bool("qk_norm_weight");
        r.check(qkNorm || !qkNormWeight, "qk_norm_weight", "qk_norm_weight needs qk_norm", "set \"qk_norm\": true or remove qk_norm_weight");
        boolean qGain = r.bool("q_gain");
        double qkGainInit = r.number("qk_gain_init");
        boolean branchScales = r.bool("branch_scales");
        boolean residMix = r.bool("resid_mix");
        boolean unetSkips = r.bool("unet_skips");
        double softcap = r.number("logit_softcap");
        r.check(softcap >= 0, "logit_softcap", "must be >= 0, got " + softcap, "use e.g. 30, or 0 to turn it off");
        Double tiedStd = r.optNumber("tied_embed_init_std");
        if (tiedStd == null) tiedStd = initStd;
        r.check(tiedStd >= 0, "tied_embed_init_std", "must be >= 0, got " + tiedStd, "use e.g. 0.005");
        boolean zeroInitProj = r.bool("zero_init_proj");
        boolean embedNorm = r.bool("embed_norm");

        List<BlockSpec> blocks = bindBlocks(r, new BlockBinder(file, modelDim, mlpMult, pos, ropeDims));
        int layers = BlockSpec.layers(blocks).size();
        r.check(!unetSkips || layers >= 2, "unet_skips", "U-Net skips need at least 2 layers, the config has " + layers,
                "add layers (e.g. \"repeat\": 4) or set \"unet_skips\": false");

        JsonNode t = r.node("training");
        TrainSpec training = TrainBinder.bind(new FieldReader(file, r.at("training"),
                t == null ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode() : t, Schema.TRAINING), seqLen);

        JsonNode d = r.node("data");
        DataSpec data = DataSpec.EMPTY;
        if (d != null) {
            FieldReader dr = new FieldReader(file, r.at("data"), d, Schema.DATA);
            data = new DataSpec(dr.nullableString("train"), dr.nullableString("val"), dr.nullableString("tokenizer_model"));
        }

        return new Config(name, modelDim, vocabSize, seqLen, mlpMult, blocks, tie, dropout, pos, norm,
                normEps, normWeight, bias, attnBias, initStd, ropeBase, ropeInterleaved, ropeDims, qkNorm, qkNormWeight,
                qGain, qkGainInit, branchScales, residMix, unetSkips, softcap, tiedStd, zeroInitProj, embedNorm, training, data);
    }

    private static List<BlockSpec> bindBlocks(FieldReader r, BlockBinder binder) {
        JsonNode arr = r.node("blocks");
        if (!arr.isArray()) {
            throw r.error("blocks", "expected an array of blocks, got " + FieldReader.describe(arr),
                    "write \"blocks\": [{\"type\": \"plain\", \"heads\": 4}]");
        }
        r.check(!arr.isEmpty(), "blocks", "must contain at least one block",
                "add e.g. {\"type\": \"plain\", \"heads\": 4}");
        List<BlockSpec> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) out.add(binder.bind(r.at("blocks") + "/" + i, arr.get(i)));
        return out;
    }

    static int positive(FieldReader r, String key, int v) {
        r.check(v > 0, key, "must be > 0, got " + v, "use a positive integer");
        return v;
    }

    static void checkMlpMult(FieldReader r, String key, int modelDim, double mult) {
        long hidden = Math.round(modelDim * mult);
        r.check(hidden > 0, key, "FFN width round(model_dim " + modelDim + " * " + mult + ") = " + hidden
                + " is not positive", "use a positive mlp_mult such as 4");
    }

    /** {@code examples/x.json} names the run {@code x}. */
    static String defaultName(String file) {
        String base = file.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        if (base.endsWith(".json")) base = base.substring(0, base.length() - 5);
        return base.isEmpty() ? "config" : base;
    }
}
