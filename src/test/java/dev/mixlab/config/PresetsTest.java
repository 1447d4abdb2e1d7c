package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
    void qwen3Next80bA3bIsThePublishedCount() {
        // Qwen/Qwen3-Next-80B-A3B-Instruct config.json: hidden_size 2048, num_hidden_layers 48, full_attention_interval 4,
        // num_attention_heads 16, num_key_value_heads 2, head_dim 256, linear_num_key_heads 16, linear_key_head_dim 128,
        // linear_num_value_heads 32, linear_value_head_dim 128, linear_conv_kernel_dim 4, num_experts 512,
        // num_experts_per_tok 10, moe_intermediate_size 512, shared_expert_intermediate_size 512, decoder_sparse_step 1,
        // vocab_size 151936, tie_word_embeddings false. With HF modeling_qwen3_next's tensors:
        //   full attention (12 layers): q_proj 2048·(16·256·2, query and output gate) + k_proj, v_proj 2048·512 each
        //     + o_proj 4096·2048 + q_norm, k_norm 256 each = 27,263,488;
        //   gated DeltaNet (36 layers): in_proj_qkvz 2048·(2·2048 + 2·4096) + in_proj_ba 2048·2·32 + conv1d 8192·4
        //     + dt_bias 32 + A_log 32 + norm 128 + out_proj 4096·2048 = 33,718,464;
        //   MoE (48 layers): gate 512·2048 + experts 512·3·2048·512 + shared_expert 3·2048·512 + shared_expert_gate 2048
        //     = 1,614,809,088; two norms 2·2048; embed_tokens + lm_head 2·151936·2048; final norm 2048
        //   = 79,674,391,296 ("80B"); active (10 of 512 experts): 3,874,929,408 ("A3B" without embeddings and head).
        long published = 79_674_391_296L, publishedActive = 3_874_929_408L;
        Config c = ConfigLoader.parse("{\"preset\": \"qwen3-next-80b-a3b\"}", "q.json");
        ModelReport r = ModelReport.of(c);
        assertEquals(published, r.parameters());
        assertEquals(publishedActive, r.activeParameters());
        assertEquals(48, c.layers().size());
        for (int i = 0; i < 48; i++) {
            MoeBlock m = (MoeBlock) c.layers().get(i);
            assertEquals(512, m.experts());
            assertEquals(10, m.topK());
            assertEquals(1, m.sharedExperts());
            assertTrue(m.sharedExpertGate());
            assertEquals(512, Math.round(2048 * m.expertMult()));
            assertEquals(RouterType.SOFTMAX, m.router());
            if (i % 4 == 3) {
                assertEquals(new PlainBlock(16, 2, 256, Activation.GELU, FfnType.NONE, 2.5, 1, 0, 0, false, 0, "", false, 0, false,
                        0, false, true), m.mixer(), "layer " + i);
            } else {
                assertEquals(new GatedDeltaNetBlock(16, 128, 4, 1, Activation.GELU, FfnType.NONE, 2.5, 1, 32), m.mixer(), "layer " + i);
            }
        }
        assertEquals(64, c.ropeDims());
        assertTrue(c.qkNorm() && c.qkNormWeight());
        assertEquals(1e7, c.ropeBase());
    }

    @Test
    void jambaV01IsThePublishedCount() {
        // ai21labs/Jamba-v0.1 config.json: hidden_size 4096, num_hidden_layers 32, attn_layer_period 8, attn_layer_offset 4,
        // expert_layer_period 2, expert_layer_offset 1, num_experts 16, num_experts_per_tok 2, intermediate_size 14336,
        // num_attention_heads 32, num_key_value_heads 8, mamba_d_state 16, mamba_d_conv 4, mamba_expand 2,
        // mamba_dt_rank 256, mamba_conv_bias true, mamba_proj_bias false, vocab_size 65536, tie_word_embeddings false.
        // With HF modeling_jamba's tensors: attention 2·4096² + 2·4096·1024; Mamba-1 mixer in_proj 4096·2·8192, conv1d
        // 8192·4 + bias 8192, x_proj 8192·(256 + 2·16), dt_proj 256·8192 + bias 8192, A_log 8192·16, D 8192, out_proj
        // 8192·4096, dt/B/C layernorms 256 + 16 + 16 = 105,308,448; dense SwiGLU 3·4096·14336; MoE router 16·4096 + 16
        // experts; two norms per layer; embeddings and head 2·65536·4096; final norm:
        //   4 attention + 28 Mamba layers, 16 MoE + 16 dense FFNs = 51,570,323,328 ("52B"), active 12,110,311,296 ("12B").
        long mamba1 = 4096L * 2 * 8192 + 8192 * 4 + 8192 + 8192L * 288 + 256L * 8192 + 8192 + 8192 * 16 + 8192 + 8192L * 4096 + 288;
        assertEquals(105_308_448L, mamba1);
        Config c = ConfigLoader.parse("{\"preset\": \"jamba-v0.1\"}", "j.json");
        ModelReport r = ModelReport.of(c);
        assertEquals(51_570_323_328L, r.parameters());
        assertEquals(12_110_311_296L, r.activeParameters());
        assertEquals(32, c.layers().size());
        for (int i = 0; i < 32; i++) {
            BlockSpec b = c.layers().get(i);
            if (i % 8 == 4) {
                assertEquals(new PlainBlock(32, 8, 128, Activation.GELU, FfnType.SWIGLU, 3.5, 1), b, "layer " + i);
            } else if (i % 2 == 1) {
                MoeBlock m = (MoeBlock) b;
                assertEquals(new Mamba1Block(16, 2, 4, 256, true, Activation.GELU, FfnType.NONE, 3.5, 1), m.mixer(), "layer " + i);
                assertEquals(16, m.experts());
                assertEquals(2, m.topK());
                assertEquals(0, m.sharedExperts());
            } else {
                assertEquals(new Mamba1Block(16, 2, 4, 256, true, Activation.GELU, FfnType.SWIGLU, 3.5, 1), b, "layer " + i);
            }
        }
        assertEquals(PositionalEmbedding.NONE, c.positionalEmbedding());
    }

    @Test
    void hybridFamiliesLayTheirTemplatesUnderTheGroupsBlocks() {
        Config q = ConfigLoader.parse("""
                {"preset": "qwen3_next_hybrid", "model_dim": 64, "vocab_size": 100, "seq_len": 32,
                 "blocks": [{"type": "group", "repeat": 2, "blocks": [
                     {"mixer": "gated_deltanet", "heads": 2, "expand_v": 2, "experts": 16, "expert_mult": 0.25, "repeat": 3},
                     {"heads": 4, "kv_heads": 2, "output_gate": true, "experts": 16, "expert_mult": 0.25}]}],
                 "training": {"batch_tokens": 64}}""", "q.json");
        assertEquals(8, q.layers().size());
        MoeBlock g = (MoeBlock) q.layers().get(0), a = (MoeBlock) q.layers().get(3);
        assertInstanceOf(GatedDeltaNetBlock.class, g.mixer());
        assertInstanceOf(PlainBlock.class, a.mixer());
        assertEquals(10, g.topK());
        assertEquals(RouterType.SOFTMAX, a.router());
        assertEquals(1, a.sharedExperts());
        assertTrue(a.sharedExpertGate() && g.sharedExpertGate());
        assertTrue(((PlainBlock) a.mixer()).outputGate());
        Config j = ConfigLoader.parse("""
                {"preset": "jamba", "model_dim": 64, "vocab_size": 100, "seq_len": 32, "mlp_mult": 2,
                 "blocks": [{"type": "group", "repeat": 2, "blocks": [{"type": "mamba", "d_state": 8},
                     {"type": "moe", "experts": 4}, {"type": "plain", "heads": 4}]}],
                 "training": {"batch_tokens": 64}}""", "j.json");
        assertEquals(new Mamba1Block(8, 2, 4, 4, true, Activation.GELU, FfnType.SWIGLU, 2, 1), j.layers().get(0));
        MoeBlock m = (MoeBlock) j.layers().get(1);
        assertEquals(new Mamba1Block(16, 2, 4, 4, true, Activation.GELU, FfnType.NONE, 2, 1), m.mixer());
        assertEquals(2, m.topK());
        assertEquals(FfnType.SWIGLU, ((PlainBlock) j.layers().get(2)).ffn());
        // and both build
        assertTrue(Programs.eval(q, 1).parameterCount() > 0 && Programs.eval(j, 1).parameterCount() > 0);
    }
}
