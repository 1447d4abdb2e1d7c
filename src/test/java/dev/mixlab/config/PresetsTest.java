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
    void mixtralFamilyTakesTheSizeFromTheFile() {
        Config c = ConfigLoader.parse("""
                {"preset": "mixtral", "model_dim": 64, "vocab_size": 100, "seq_len": 32, "mlp_mult": 3.5,
                 "blocks": [{"heads": 4, "kv_heads": 2, "experts": 4, "repeat": 2}], "training": {"batch_tokens": 64}}""", "x.json");
        MoeBlock m = (MoeBlock) c.blocks().get(0);
        assertEquals(2, m.topK());
        assertEquals(4, m.experts());
        assertEquals(FfnType.SWIGLU, m.expertFfn());
        assertEquals(0.02, m.auxLossCoef());
        assertEquals(2, m.attention().kvHeads());
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
        String[][] cases = {{"deepseek_v3", "mla"}, {"qwen3_next_hybrid", "gated_deltanet"},
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
