package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mixlab.train.ModelReport;
import dev.mixlab.train.Programs;
import org.junit.jupiter.api.Test;

class PresetsTest {
    /** Exact parameter count from the IR (forward program, batch 1); no weights are allocated, nothing runs. */
    private static long params(String json) {
        return Programs.eval(ConfigLoader.parse(json, "p.json"), 1).parameterCount();
    }

    @Test
    void gpt2SmallHas124MParameters() {
        // Hugging Face `gpt2` (GPT-2 small, "124M" in Radford et al. 2019 / the HF model card): the sum of the
        // checkpoint's tensors is 124,439,808 (wte 50257x768 tied with the LM head, wpe 1024x768, 12 layers).
        assertEquals(124_439_808L, params("{\"preset\": \"gpt2-small\"}"));
    }

    @Test
    void llama32OneBHas1_23BParameters() {
        // Meta's Llama 3.2 1B model card: 1.23B parameters; the sum of the HF checkpoint's tensors
        // (meta-llama/Llama-3.2-1B, tied embeddings) is 1,235,814,400.
        assertEquals(1_235_814_400L, params("{\"preset\": \"llama-3.2-1b\"}"));
    }

    @Test
    void countReportsTheSameNumbers() {
        // What `mixlab count` prints: ModelReport from the training-step IR (memory plan included; nothing runs).
        assertEquals(124_439_808L, ModelReport.of(ConfigLoader.parse("{\"preset\": \"gpt2-small\"}", "g.json")).parameters());
        assertEquals(1_235_814_400L,
                ModelReport.of(ConfigLoader.parse("{\"preset\": \"llama-3.2-1b\"}", "l.json")).parameters());
    }

    @Test
    void mixtral8x7bHas46_7BParametersAnd12_9BActive() {
        // mistralai/Mixtral-8x7B-v0.1 config.json: hidden 4096, 32 layers, 32 heads, 8 KV heads, intermediate 14336,
        // vocab 32000, 8 local experts, 2 per token, untied embeddings. The sum of the HF checkpoint's tensors is
        // 46,702,792,704 ("46.7B total parameters", Mistral AI's Mixtral of Experts announcement and paper,
        // arXiv:2401.04088): embeddings and head 2·32000·4096, per layer attention 2·4096² + 2·4096·1024, two norms,
        // router 8·4096 and 8 experts of 3·4096·14336; plus the final norm.
        Config c = ConfigLoader.parse("{\"preset\": \"mixtral-8x7b\"}", "m.json");
        assertEquals(46_702_792_704L, params("{\"preset\": \"mixtral-8x7b\"}"));
        ModelReport r = ModelReport.of(c);
        assertEquals(46_702_792_704L, r.parameters());
        // active: 2 of the 8 experts per layer ("12.9B active parameters"): 46,702,792,704 − 32·6·3·4096·14336
        assertEquals(12_879_925_248L, r.activeParameters());
        MoeBlock m = (MoeBlock) c.blocks().get(0);
        assertEquals(8, m.experts());
        assertEquals(2, m.topK());
        assertEquals(14336, Math.round(4096 * m.expertMult()));
        assertEquals(RouterType.SOFTMAX, m.router());
        assertFalse(c.tieEmbeddings());
        assertEquals(1e6, c.ropeBase());
        assertEquals(32, c.layers().size());
    }

    @Test
    void deepseekV3Has671BParametersAnd37BActive() {
        // deepseek-ai/DeepSeek-V3 config.json (Hugging Face): hidden_size 7168, num_hidden_layers 61,
        // first_k_dense_replace 3, intermediate_size 18432, moe_intermediate_size 2048, n_routed_experts 256,
        // num_experts_per_tok 8, n_shared_experts 1, num_attention_heads 128, q_lora_rank 1536, kv_lora_rank 512,
        // qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128, vocab_size 129280, tie_word_embeddings false,
        // attention_bias false. The exact integer from that config, per the HF modeling code's tensors:
        //   attention per layer: q_a_proj 7168·1536 + q_a_layernorm 1536 + q_b_proj 1536·128·192
        //     + kv_a_proj_with_mqa 7168·(512+64) + kv_a_layernorm 512 + kv_b_proj 512·128·(128+128) + o_proj 128·128·7168
        //     = 187,107,328; two RMSNorms 2·7168;
        //   dense FFN (layers 0-2): 3·7168·18432 = 396,361,728;
        //   MoE FFN (layers 3-60): 256 experts · 3·7168·2048 + shared 3·7168·2048 + gate 256·7168
        //     + e_score_correction_bias 256 = 11,320,164,608;
        //   embed_tokens + lm_head 2·129280·7168, final norm 7168:
        //   3·(187,107,328 + 14,336 + 396,361,728) + 58·(187,107,328 + 14,336 + 11,320,164,608) + 1,853,358,080 + 7168
        //   = 671,026,419,200.
        // This is the model card's "671B total parameters": the main model. The "685B" that Hugging Face shows adds the
        // multi-token-prediction module (num_nextn_predict_layers 1: eh_proj 7168·14336, enorm, hnorm, one more MoE
        // layer and its norm, 11.6B by this count, README_WEIGHTS.md's "11.5B unique parameters", stored with its own
        // copies of embedding and head: 13.5B, the README's "14B MTP module"), which mixlab does not model. mixlab's balancing bias (a `buffer` parameter) is the checkpoint's
        // e_score_correction_bias, so it is counted as the checkpoint does.
        Config c = ConfigLoader.parse("{\"preset\": \"deepseek-v3\"}", "d.json");
        ModelReport r = ModelReport.of(c);
        assertEquals(671_026_419_200L, r.parameters());
        // active ("37B activated"): 8 of the 256 routed experts in each of the 58 MoE layers:
        // 671,026,419,200 − 58·248·3·7168·2048 = 37,552,297,472 (embeddings and head included); without the input
        // embedding (a lookup, 129280·7168) that is 36,625,618,432, README_WEIGHTS.md's "Activation parameters: 36.6B
        // (including 0.9B for the output Head)".
        assertEquals(37_552_297_472L, r.activeParameters());
        assertEquals(36_625_618_432L, r.activeParameters() - 129_280L * 7168);
        assertEquals(61, c.layers().size());
        for (int i = 0; i < 61; i++) {
            BlockSpec b = c.layers().get(i);
            MlaBlock a = (MlaBlock) (i < 3 ? b : ((MoeBlock) b).mixer());
            assertEquals(new MlaBlock(128, 512, 1536, 128, 64, 128, Activation.SILU, i < 3 ? FfnType.SWIGLU : FfnType.NONE,
                    a.mlpMult(), 1), a, "layer " + i);
            assertEquals(18432, Math.round(7168 * a.mlpMult()));
        }
        MoeBlock m = (MoeBlock) c.layers().get(3);
        assertEquals(256, m.experts());
        assertEquals(8, m.topK());
        assertEquals(1, m.sharedExperts());
        assertEquals(2048, Math.round(7168 * m.expertMult()));
        assertEquals(RouterType.SIGMOID, m.router());
        assertTrue(m.biasBalancing());
        assertEquals(0.0, m.auxLossCoef());
        assertEquals(FfnType.SWIGLU, m.expertFfn());
        assertFalse(c.tieEmbeddings());
        assertEquals(129280, c.vocabSize());
        assertEquals(NormType.RMSNORM, c.normType());
        assertEquals(1e-6, c.normEps());
        // the latent cache: 512 + 64 floats per token and layer, against 128·(192 + 128) for MHA of these heads
        assertEquals(4L * 61 * 576, r.kvCacheBytesPerToken());
        assertEquals(4L * 61 * 128 * 320, r.mhaKvCacheBytesPerToken());
    }

    @Test
    void deepseekFamilyTakesTheSizeFromTheFile() {
        Config c = ConfigLoader.parse("""
                {"preset": "deepseek_v3", "model_dim": 64, "vocab_size": 100, "seq_len": 32, "mlp_mult": 2,
                 "blocks": [{"type": "mla", "heads": 4, "q_lora_rank": 24, "kv_lora_rank": 16},
                            {"heads": 4, "q_lora_rank": 24, "kv_lora_rank": 16, "experts": 8, "expert_mult": 0.5, "repeat": 2}],
                 "training": {"batch_tokens": 64}}""", "x.json");
        assertEquals(3, c.layers().size());
        MlaBlock dense = (MlaBlock) c.layers().get(0);
        assertEquals(FfnType.SWIGLU, dense.ffn());
        MoeBlock m = (MoeBlock) c.layers().get(1);
        MlaBlock a = (MlaBlock) m.mixer();
        assertEquals(new MlaBlock(4, 16, 24, 16, 8, 16, Activation.GELU, FfnType.NONE, 2, 1), a);
        assertEquals(8, m.topK());
        assertEquals(1, m.sharedExperts());
        assertEquals(RouterType.SIGMOID, m.router());
        assertTrue(m.biasBalancing());
        assertFalse(c.tieEmbeddings());
        assertTrue(c.ropeInterleaved());
        // and it builds: a forward program with the experts of layers 1 and 2 and the dense FFN of layer 0
        var names = Programs.eval(c, 1).params().stream().map(v -> v.name()).toList();
        assertTrue(names.contains("blocks.0.mlp.gate.weight") && names.contains("blocks.2.moe.experts.up.weight")
                && names.contains("blocks.1.attn.q_down.weight") && names.contains("blocks.2.moe.router.balance_bias"), names.toString());
    }

    @Test
    void mixtralFamilyTakesTheSizeFromTheFile() {
        Config c = ConfigLoader.parse("""
                {"preset": "mixtral", "model_dim": 64, "vocab_size": 100, "seq_len": 32, "mlp_mult": 3.5,
                 "blocks": [{"heads": 4, "kv_heads": 2, "experts": 4, "repeat": 2}], "training": {"batch_tokens": 64}}""", "x.json");
        MoeBlock m = (MoeBlock) c.blocks().get(0);
        assertEquals(2, m.topK());
        assertEquals(4, m.experts());
        assertEquals(FfnType.SWIGLU, m.expertFfn());
        assertEquals(0.02, m.auxLossCoef());
        assertEquals(2, ((PlainBlock) m.mixer()).kvHeads());
        assertEquals(2, c.layers().size());
        assertEquals(NormType.RMSNORM, c.normType());
        assertFalse(c.tieEmbeddings());
    }

    @Test
    void familyWithoutBlocksAsksForThem() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("{\"preset\": \"gpt2\", \"model_dim\": 128}", "b.json"));
        assertEquals("/blocks", e.path());
    }

    @Test
    void referenceSizesBindTheFamilyStyle() {
        Config g = ConfigLoader.parse("{\"preset\": \"gpt2-small\"}", "g.json");
        assertEquals(50257, g.vocabSize());
        assertEquals(1024, g.seqLen());
        assertTrue(g.bias());
        assertTrue(g.tieEmbeddings());
        assertEquals(NormType.LAYERNORM, g.normType());
        assertEquals(PositionalEmbedding.LEARNED_ABSOLUTE, g.positionalEmbedding());
        PlainBlock gb = (PlainBlock) g.blocks().get(0);
        assertEquals(Activation.GELU_TANH, gb.activation());
        assertEquals(12, g.layers().size());

        Config l = ConfigLoader.parse("{\"preset\": \"llama-3.2-1b\"}", "l.json");
        assertEquals(NormType.RMSNORM, l.normType());
        assertEquals(PositionalEmbedding.ROPE, l.positionalEmbedding());
        assertFalse(l.ropeInterleaved());
        assertFalse(l.bias());
        assertEquals(500000.0, l.ropeBase());
        PlainBlock lb = (PlainBlock) l.blocks().get(0);
        assertEquals(FfnType.SWIGLU, lb.ffn());
        assertEquals(8, lb.kvHeads());
        assertEquals(64, lb.headDim());
        assertEquals("l", l.name());
    }

    @Test
    void familyTakesTheSizeFromTheFile() {
        Config c = ConfigLoader.parse("""
                {"preset": "llama", "model_dim": 256, "vocab_size": 1000, "seq_len": 128,
                 "blocks": [{"heads": 8, "kv_heads": 2, "repeat": 3}]}""", "f.json");
        PlainBlock b = (PlainBlock) c.blocks().get(0);
        assertEquals(FfnType.SWIGLU, b.ffn());
        assertEquals(2, b.kvHeads());
        assertEquals(32, b.headDim());
        assertEquals(3, c.layers().size());
        assertEquals(NormType.RMSNORM, c.normType());

        Config g = ConfigLoader.parse("{\"preset\": \"gpt2\", \"model_dim\": 128, \"blocks\": [{\"heads\": 4, \"repeat\": 2}]}",
                "g.json");
        assertEquals(Activation.GELU_TANH, ((PlainBlock) g.blocks().get(0)).activation());
        assertEquals(50257, g.vocabSize());
    }

    @Test
    void fileFieldsOverrideThePreset() {
        Config c = ConfigLoader.parse("""
                {"preset": "gpt2-small", "seq_len": 256, "vocab_size": 256, "tie_embeddings": false,
                 "blocks": [{"heads": 4, "repeat": 2, "activation": "relu"}], "training": {"steps": 5}}""", "o.json");
        assertEquals(256, c.seqLen());
        assertEquals(256, c.vocabSize());
        assertFalse(c.tieEmbeddings());
        assertEquals(768, c.modelDim());
        PlainBlock b = (PlainBlock) c.blocks().get(0);
        assertEquals(4, b.heads());
        assertEquals(Activation.RELU, b.activation());
        assertEquals(2, c.layers().size());
        assertEquals(5, c.training().steps());
        assertTrue(c.bias()); // not overridden: from the preset
    }

    @Test
    void errorsStillPointAtTheFilesField() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "{\"preset\": \"llama\", \"model_dim\": 256, \"seq_len\": 64, \"blocks\": [{\"heads\": 8, \"kv_heads\": 3}]}",
                "e.json"));
        assertEquals("/blocks/0/kv_heads", e.path());
        assertEquals("e.json", e.file());
    }

    @Test
    void unknownPresetListsTheValidOnesAndSuggests() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("{\"preset\": \"lama\"}", "u.json"));
        assertEquals("/preset", e.path());
        assertFalse(e.getMessage().contains("\n"));
        for (String n : Presets.names()) assertTrue(e.getMessage().contains(n), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean \"llama\"?"), e.getMessage());
    }

    @Test
    void presetsNeedingUnbuiltBlocksAreRefused() {
        String[][] cases = {{"qwen3_next_hybrid", "gated_deltanet"},
                {"jamba", "mamba2"}};
        for (String[] c : cases) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ConfigLoader.parse("{\"preset\": \"" + c[0] + "\"}", "n.json"));
            assertEquals("/preset", e.path());
            assertFalse(e.getMessage().contains("\n"));
            assertTrue(e.getMessage().contains("\"" + c[1] + "\"") && e.getMessage().contains("not built yet"),
                    e.getMessage());
        }
    }
}
