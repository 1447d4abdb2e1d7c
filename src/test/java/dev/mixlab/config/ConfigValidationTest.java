package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigValidationTest {

    /** A valid config with {@code extra} spliced into the top level and {@code train} into training. */
    private static String cfg(String extraTop, String block, String train) {
        return "{\"model_dim\": 384, \"seq_len\": 256, " + extraTop + (extraTop.isEmpty() ? "" : ", ")
                + "\"blocks\": [" + block + "], \"training\": {" + train + "}}";
    }

    private static ConfigException fail(String json) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(json, "x.json"));
    }

    private static void assertError(ConfigException e, String path, String... parts) {
        String msg = e.getMessage();
        assertEquals(path, e.path(), msg);
        assertEquals("x.json", e.file());
        assertTrue(msg.startsWith("x.json: " + path + ": "), msg);
        assertFalse(msg.contains("\n"), msg);
        for (String p : parts) assertTrue(msg.contains(p), "expected \"" + p + "\" in: " + msg);
    }

    private static final String PLAIN = "{\"type\": \"plain\", \"heads\": 6}";

    @Test
    void misspeltTopLevelKeySuggestsClosest() {
        ConfigException e = fail("{\"modle_dim\": 384, \"seq_len\": 256, \"blocks\": [" + PLAIN + "]}");
        assertError(e, "/modle_dim", "unknown field", "did you mean \"model_dim\"?");
    }

    @Test
    void misspeltAliasSuggestsRealKey() {
        assertError(fail(cfg("", PLAIN, "\"lerning_rate\": 0.1")), "/training/lerning_rate",
                "unknown field; did you mean \"lr\"?");
    }

    @Test
    void farOffKeyListsValidKeys() {
        assertError(fail(cfg("", PLAIN, "\"zzzzzzzzzz\": 1")), "/training/zzzzzzzzzz",
                "unknown field; valid fields: steps, lr, min_lr");
    }

    @Test
    void unknownKeyInBlockAndData() {
        assertError(fail(cfg("", "{\"type\": \"plain\", \"heds\": 6}", "")), "/blocks/0/heds", "did you mean \"heads\"?");
        assertError(fail(cfg("\"data\": {\"trian\": \"a\"}", PLAIN, "")), "/data/trian", "did you mean \"train\"?");
    }

    @Test
    void moeFieldsAreChecked() {
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"experts\": 4, \"top_k\": 5}", "")), "/blocks/0/top_k",
                "top_k 5 is not in 1..4");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"experts\": 4, \"expert_ffn\": \"none\"}", "")),
                "/blocks/0/expert_ffn", "swiglu");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"experts\": 4, \"capacity_factor\": -1}", "")),
                "/blocks/0/capacity_factor", "must be >= 0");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"num_experts\": 4}", "")), "/blocks/0/num_experts",
                "did you mean \"experts\"?");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"experts\": 4, \"shared_expert_gate\": true}", "")),
                "/blocks/0/shared_expert_gate", "needs shared experts");
    }

    @Test
    void valueHeadsAreAMultipleOfHeads() {
        assertError(fail(cfg("", "{\"type\": \"gated_deltanet\", \"heads\": 4, \"value_heads\": 6}", "")), "/blocks/0/value_heads",
                "not a multiple of heads 4");
    }

    @Test
    void qkNormWeightNeedsQkNorm() {
        assertError(fail(cfg("\"qk_norm_weight\": true", PLAIN, "")), "/qk_norm_weight", "needs qk_norm");
    }

    @Test
    void outputGateIsNotForDifferentialAttention() {
        assertError(fail(cfg("", "{\"type\": \"plain\", \"heads\": 6, \"differential\": true, \"output_gate\": true}", "")),
                "/blocks/0/output_gate", "differential attention does not take output_gate");
    }

    @Test
    void moeMixerChoiceRefusesTheOtherMixersFields() {
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 6, \"experts\": 4, \"kv_heads\": 2}", "")),
                "/blocks/0/kv_heads", "kv_heads is a field of the plain mixer", "\"mixer\": \"mla\"", "remove kv_heads");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"heads\": 6, \"experts\": 4, \"q_lora_rank\": 32}", "")),
                "/blocks/0/q_lora_rank", "q_lora_rank is a field of the mla mixer", "set \"mixer\": \"mla\"");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"gated_deltanet\", \"heads\": 6, \"experts\": 4,"
                + " \"d_state\": 16}", "")), "/blocks/0/d_state", "d_state is a field of the mamba2 mixer");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"mamba2\", \"heads\": 6, \"experts\": 4}", "")),
                "/blocks/0/heads", "a mamba2 mixer has no heads field", "set head_dim or expand");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"gated_deltanet\", \"experts\": 4}", "")),
                "/blocks/0/heads", "missing required field");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"mlp\", \"heads\": 6, \"experts\": 4}", "")),
                "/blocks/0/mixer", "plain", "mla", "gated_deltanet", "mamba2");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 6, \"experts\": 4,"
                + " \"qk_rope_head_dim\": 3}", "")), "/blocks/0/qk_rope_head_dim", "not an even number");
        assertError(fail(cfg("", "{\"type\": \"moe\", \"mixer\": \"mamba2\", \"ngroups\": 5, \"experts\": 4}", "")),
                "/blocks/0/ngroups", "ngroups 5 does not divide the 12 heads");
        Config c = ConfigLoader.parse(cfg("", "{\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 6, \"experts\": 4, \"repeat\": 2},"
                + " {\"type\": \"moe\", \"mixer\": \"mamba2\", \"experts\": 4}, {\"type\": \"moe\", \"mixer\": \"gated_deltanet\","
                + " \"heads\": 6, \"expand_v\": 2, \"experts\": 4}", ""), "x.json");
        MoeBlock m = (MoeBlock) c.layers().get(1);
        assertEquals(new MlaBlock(6, 256, 0, 64, 32, 64, Activation.GELU, FfnType.NONE, m.mlpMult(), 1), m.mixer());
        // each mixer with its own block's defaults, FFN tail none
        assertEquals(new Mamba2Block(64, 64, 2, 4, 1, Activation.GELU, FfnType.NONE, 4.0, 1), ((MoeBlock) c.layers().get(2)).mixer());
        assertEquals(new GatedDeltaNetBlock(6, 64, 4, 2, Activation.GELU, FfnType.NONE, 4.0, 1), ((MoeBlock) c.layers().get(3)).mixer());
    }

    @Test
    void recurrentBlocksValidateTheirShapes() {
        assertError(fail(cfg("", "{\"type\": \"gated_deltanet\", \"heads\": 5}", "")), "/blocks/0/heads",
                "5 does not divide model_dim 384", "or set head_dim");
        assertError(fail(cfg("", "{\"type\": \"gated_deltanet\", \"heads\": 4, \"expand_v\": 0}", "")), "/blocks/0/expand_v");
        assertError(fail(cfg("", "{\"type\": \"mamba2\", \"head_dim\": 100}", "")), "/blocks/0/head_dim",
                "head_dim 100 does not divide expand·model_dim = 768");
        assertError(fail(cfg("", "{\"type\": \"mamba2\", \"ngroups\": 5}", "")), "/blocks/0/ngroups",
                "ngroups 5 does not divide the 12 heads", "choose ngroups dividing 12");
        assertError(fail(cfg("", "{\"type\": \"mamba2\", \"d_stat\": 16}", "")), "/blocks/0/d_stat", "did you mean \"d_state\"?");
        Config c = ConfigLoader.parse(cfg("", "{\"type\": \"mamba2\"}, {\"type\": \"gated_deltanet\", \"heads\": 6}", ""), "x.json");
        assertEquals(new Mamba2Block(64, 64, 2, 4, 1, Activation.GELU, FfnType.MLP, 4.0, 1), c.layers().get(0));
        assertEquals(new GatedDeltaNetBlock(6, 64, 4, 1, Activation.GELU, FfnType.MLP, 4.0, 1), c.layers().get(1));
    }

    @Test
    void headsMustDivideModelDim() {
        assertError(fail(cfg("", "{\"type\": \"plain\", \"heads\": 5}", "")), "/blocks/0/heads",
                "5 does not divide model_dim 384; choose heads so that model_dim % heads == 0", "4 or 6");
    }

    @Test
    void mlaFieldsAreChecked() {
        assertError(fail(cfg("", "{\"type\": \"mla\", \"heads\": 5}", "")), "/blocks/0/heads",
                "5 does not divide model_dim 384", "4 or 6", "or set qk_nope_head_dim");
        assertError(fail(cfg("", "{\"type\": \"mla\", \"heads\": 6, \"qk_rope_head_dim\": 5}", "")), "/blocks/0/qk_rope_head_dim",
                "not an even number", "use an even width such as 4");
        assertError(fail(cfg("", "{\"type\": \"mla\", \"heads\": 6, \"kv_lora_rank\": 0}", "")), "/blocks/0/kv_lora_rank", "must be > 0");
        assertError(fail(cfg("", "{\"type\": \"mla\", \"heads\": 6, \"q_lora_rank\": -1}", "")), "/blocks/0/q_lora_rank", "negative");
        assertError(fail(cfg("", "{\"type\": \"mla\", \"heads\": 6, \"kv_lora_rnk\": 8}", "")), "/blocks/0/kv_lora_rnk",
                "did you mean \"kv_lora_rank\"?");
        // the defaults follow DeepSeek-V2's ratios: nope = model_dim/heads, rope = nope/2, v = nope, kv latent = 4·nope
        MlaBlock m = (MlaBlock) ConfigLoader.parse(cfg("", "{\"type\": \"mla\", \"heads\": 6}", ""), "x.json").layers().getFirst();
        assertEquals(new MlaBlock(6, 256, 0, 64, 32, 64, Activation.GELU, FfnType.MLP, m.mlpMult(), 1), m);
    }

    @Test
    void kvHeadsMustDivideHeads() {
        assertError(fail(cfg("", "{\"type\": \"plain\", \"heads\": 6, \"kv_heads\": 4}", "")), "/blocks/0/kv_heads",
                "4 does not divide heads 6", "heads % kv_heads == 0");
    }

    @Test
    void ropeNeedsEvenHeadDim() {
        String json = "{\"model_dim\": 12, \"seq_len\": 8, \"positional_embedding\": \"rope\","
                + " \"blocks\": [{\"type\": \"plain\", \"heads\": 4}], \"training\": {\"batch_tokens\": 64, \"val_tokens\": 8}}";
        assertError(fail(json), "/blocks/0/heads", "head_dim", "is odd", "(e.g. 3)");
    }

    @Test
    void batchTokensMustBeMultipleOfSeqLen() {
        assertError(fail(cfg("", PLAIN, "\"batch_tokens\": 16000")), "/training/batch_tokens",
                "16000", "seq_len 256", "use 15872 or 16128");
        assertError(fail(cfg("", PLAIN, "\"batch_tokens\": 100")), "/training/batch_tokens", "use 256");
    }

    @Test
    void unknownBlockTypeListsTypesAndSuggests() {
        assertError(fail(cfg("", "{\"type\": \"plian\", \"heads\": 6}", "")), "/blocks/0/type",
                "unknown block type \"plian\" (valid: plain, mla, mlp, swiglu, moe, group, retnet, mlstm, rwkv, gated_deltanet, mamba2", "did you mean \"plain\"?");
        assertError(fail(cfg("", "{\"heads\": 6}", "")), "/blocks/0/type", "missing required field", "plain, mla, mlp, swiglu");
        assertError(fail(cfg("", "{\"type\": \"rwvk\"}", "")), "/blocks/0/type", "did you mean \"rwkv\"?");
        assertError(fail(cfg("", "{\"type\": \"mamab2\"}", "")), "/blocks/0/type", "did you mean \"mamba2\"?");
    }

    @Test
    void recurrentBlocksCheckTheirHeads() {
        assertError(fail(cfg("", "{\"type\": \"retnet\", \"heads\": 5}", "")), "/blocks/0/heads", "does not divide model_dim", "or set head_dim");
        assertError(fail(cfg("", "{\"type\": \"retnet\"}", "")), "/blocks/0/heads", "missing required field");
        assertError(fail(cfg("", "{\"type\": \"retnet\", \"heads\": 2, \"value_dim\": 0}", "")), "/blocks/0/value_dim");
        assertError(fail(cfg("", "{\"type\": \"mlstm\", \"heads\": 7}", "")), "/blocks/0/heads", "does not divide model_dim");
        assertError(fail(cfg("", "{\"type\": \"rwkv\", \"head_size\": 7}", "")), "/blocks/0/head_size", "does not divide model_dim");
        assertError(fail(cfg("", "{\"type\": \"rwkv\", \"head_size\": 8, \"mix_lora_dim\": 0}", "")), "/blocks/0/mix_lora_dim");
    }

    @Test
    void badEnumListsValuesAndClosest() {
        assertError(fail(cfg("\"norm_type\": \"rmsnrom\"", PLAIN, "")), "/norm_type",
                "unknown value \"rmsnrom\" (valid: layernorm, rmsnorm)", "did you mean \"rmsnorm\"?");
        assertError(fail(cfg("", "{\"type\": \"plain\", \"heads\": 6, \"activation\": \"swish\"}", "")),
                "/blocks/0/activation", "gelu, relu, silu, relu2");
        assertError(fail(cfg("", PLAIN, "\"optimizer\": \"adamW\"")), "/training/optimizer", "did you mean \"adamw\"?");
        assertError(fail(cfg("", PLAIN, "\"precision\": \"bf16\"")), "/training/precision", "(valid: mixed, fp32)");
    }

    @Test
    void wrongJsonTypes() {
        assertError(fail(cfg("", PLAIN, "\"steps\": \"abc\"")), "/training/steps", "expected an integer, got \"abc\"; the field takes integer > 0");
        assertError(fail(cfg("", PLAIN, "\"steps\": 1.5")), "/training/steps", "expected an integer, got 1.5");
        assertError(fail(cfg("", PLAIN, "\"lr\": true")), "/training/lr", "expected a number, got true");
        assertError(fail(cfg("\"bias\": 1", PLAIN, "")), "/bias", "expected a boolean, got 1");
        assertError(fail("{\"model_dim\": 384, \"seq_len\": 256, \"blocks\": [" + PLAIN + "], \"training\": 3}"),
                "/training", "expected an object, got 3");
        assertError(fail("{\"model_dim\": 384, \"seq_len\": 256, \"blocks\": {}}"), "/blocks", "expected an array");
    }

    @Test
    void requiredFieldsAndEmptyBlocks() {
        assertError(fail("{\"seq_len\": 256, \"blocks\": [" + PLAIN + "]}"), "/model_dim", "missing required field");
        assertError(fail("{\"model_dim\": 384, \"blocks\": [" + PLAIN + "]}"), "/seq_len", "missing required field");
        assertError(fail("{\"model_dim\": 384, \"seq_len\": 256}"), "/blocks", "missing required field");
        assertError(fail(cfg("", "", "")), "/blocks", "at least one block");
        assertError(fail(cfg("", "{\"type\": \"plain\"}", "")), "/blocks/0/heads", "missing required field");
    }

    @Test
    void rangeChecks() {
        assertError(fail("{\"model_dim\": 0, \"seq_len\": 256, \"blocks\": [" + PLAIN + "]}"), "/model_dim", "must be > 0");
        assertError(fail(cfg("\"dropout\": 1.0", PLAIN, "")), "/dropout", "[0, 1)");
        assertError(fail(cfg("\"mlp_mult\": 0.001", PLAIN, "")), "/mlp_mult", "is not positive");
        assertError(fail(cfg("", "{\"type\": \"swiglu\", \"mlp_mult\": -1}", "")), "/blocks/0/mlp_mult", "is not positive");
        assertError(fail(cfg("", "{\"type\": \"mlp\", \"repeat\": 0}", "")), "/blocks/0/repeat", "must be > 0");
        assertError(fail(cfg("", PLAIN, "\"min_lr\": 0.01")), "/training/min_lr", "[0, lr 0.001]");
        assertError(fail(cfg("", PLAIN, "\"warmup_steps\": 1000")), "/training/warmup_steps", "[0, steps 1000)");
        assertError(fail(cfg("", PLAIN, "\"beta2\": 1")), "/training/beta2", "[0, 1)");
        assertError(fail(cfg("", PLAIN, "\"eps\": 0")), "/training/eps", "must be > 0");
        assertError(fail(cfg("", PLAIN, "\"weight_decay\": -0.1")), "/training/weight_decay", "must be >= 0");
        assertError(fail(cfg("", PLAIN, "\"grad_clip\": -1")), "/training/grad_clip", "must be >= 0");
        assertError(fail(cfg("", PLAIN, "\"val_tokens\": 100")), "/training/val_tokens", "less than seq_len 256");
        assertError(fail(cfg("", PLAIN, "\"log_every_steps\": 0")), "/training/log_every_steps", "must be > 0");
        assertError(fail(cfg("", PLAIN, "\"val_every_steps\": -1")), "/training/val_every_steps", "must be >= 0");
        assertError(fail(cfg("", PLAIN, "\"time_budget_seconds\": -1")), "/training/time_budget_seconds", "must be >= 0");
    }

    @Test
    void golfFieldsAreChecked() {
        String rope = "\"positional_embedding\": \"rope\", ";
        assertError(fail(cfg(rope + "\"rope_dims\": 7", PLAIN, "")), "/rope_dims", "must be even and >= 0, got 7");
        assertError(fail(cfg(rope + "\"rope_dims\": -2", PLAIN, "")), "/rope_dims", "must be even and >= 0");
        assertError(fail(cfg("\"rope_dims\": 16", PLAIN, "")), "/rope_dims",
                "needs positional_embedding \"rope\", got \"learned_absolute\"");
        assertError(fail(cfg(rope + "\"rope_dims\": 80", PLAIN, "")), "/blocks/0/heads",
                "head_dim 64 is smaller than rope_dims 80", "use rope_dims <= 64");
        assertError(fail(cfg(rope + "\"rope_dims\": 80", "{\"type\": \"plain\", \"heads\": 6, \"head_dim\": 32}", "")),
                "/blocks/0/head_dim", "head_dim 32 is smaller than rope_dims 80");
        assertError(fail(cfg("\"logit_softcap\": -1", PLAIN, "")), "/logit_softcap", "must be >= 0, got -1.0");
        assertError(fail(cfg("\"tied_embed_init_std\": -0.1", PLAIN, "")), "/tied_embed_init_std", "must be >= 0");
        assertError(fail(cfg("\"unet_skips\": true", PLAIN, "")), "/unet_skips",
                "U-Net skips need at least 2 layers, the config has 1", "\"unet_skips\": false");
        assertError(fail(cfg("\"q_gain\": 1.5", PLAIN, "")), "/q_gain", "expected a boolean, got 1.5");
        assertError(fail(cfg("\"logit_soft_cap\": 30", PLAIN, "")), "/logit_soft_cap", "did you mean \"logit_softcap\"?");
        assertError(fail(cfg("\"qk_gain_init\": \"1.5\"", PLAIN, "")), "/qk_gain_init", "expected a number");
    }

    @Test
    void golfFieldsDefaultToOffAndResolve() {
        Config plain = ConfigLoader.parse(cfg("\"init_std\": 0.03", PLAIN, ""), "x.json");
        assertFalse(plain.qkNorm() || plain.qGain() || plain.branchScales() || plain.residMix() || plain.unetSkips()
                || plain.zeroInitProj() || plain.embedNorm());
        assertEquals(0, plain.ropeDims());
        assertEquals(64, plain.ropeDims(64));
        assertEquals(0.0, plain.logitSoftcap());
        assertEquals(1.5, plain.qkGainInit());
        assertEquals(0.03, plain.tiedEmbedInitStd());
        Config golf = ConfigLoader.parse(cfg("\"tied_embed_init_std\": 0.005, \"unet_skips\": true",
                "{\"type\": \"plain\", \"heads\": 6, \"repeat\": 2}", ""), "x.json");
        assertEquals(0.005, golf.tokEmbInitStd());
        assertTrue(golf.unetSkips());
        assertEquals(golf, ConfigLoader.parse(ConfigWriter.toJson(golf), "x.json"));
    }

    @Test
    void malformedJsonGivesLineAndColumn() {
        ConfigException e = fail("{\n  \"model_dim\": 384,\n  \"seq_len\" 256\n}");
        assertEquals("", e.path());
        assertTrue(e.getMessage().startsWith("x.json: malformed JSON at line 3, column "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void duplicateKeysAreRejected() {
        ConfigException e = fail("{\"model_dim\": 384, \"model_dim\": 256}");
        assertEquals("x.json: duplicate field 'model_dim' at line 1, column 31; keep only one of them", e.getMessage());
    }

    @Test
    void topLevelMustBeAnObject() {
        assertEquals("x.json: expected a JSON object at the top level, got an array; wrap the config in { ... }",
                fail("[1, 2]").getMessage());
    }

    @Test
    void missingFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Path.of("nope/x.json")));
        assertEquals("nope/x.json: file not found; check the path", e.getMessage());
    }
}
