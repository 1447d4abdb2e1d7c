package dev.mixlab.hf;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.config.Activation;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Import and export without goldens: synthetic Hugging Face folders (config.json + safetensors in
 * HF names, written with mixlab's writer) must import to the right config and weights, and export
 * back to the very same tensors.
 */
class HfImportTest {
    @TempDir
    Path tmp;

    static final int D = 16, H = 4, KV = 2, I = 24, L = 2, V = 40, P = 8;
    final Random rnd = new Random(7);

    Tensor rand(long... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.ofFloats(shape, v);
    }

    Map<String, Tensor> llamaWeights(boolean tied, boolean qkvBias) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        int hd = D / H;
        w.put("model.embed_tokens.weight", rand(V, D));
        for (int i = 0; i < L; i++) {
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", rand(D));
            w.put(p + "self_attn.q_proj.weight", rand(H * hd, D));
            w.put(p + "self_attn.k_proj.weight", rand(KV * hd, D));
            w.put(p + "self_attn.v_proj.weight", rand(KV * hd, D));
            if (qkvBias) {
                w.put(p + "self_attn.q_proj.bias", rand(H * hd));
                w.put(p + "self_attn.k_proj.bias", rand(KV * hd));
                w.put(p + "self_attn.v_proj.bias", rand(KV * hd));
            }
            w.put(p + "self_attn.o_proj.weight", rand(D, H * hd));
            w.put(p + "post_attention_layernorm.weight", rand(D));
            w.put(p + "mlp.gate_proj.weight", rand(I, D));
            w.put(p + "mlp.up_proj.weight", rand(I, D));
            w.put(p + "mlp.down_proj.weight", rand(D, I));
        }
        w.put("model.norm.weight", rand(D));
        if (!tied) w.put("lm_head.weight", rand(V, D));
        return w;
    }

    String llamaConfig(String arch, boolean tied, String extra) {
        return "{\"architectures\": [\"" + arch + "\"], \"hidden_size\": " + D + ", \"num_attention_heads\": " + H
                + ", \"num_key_value_heads\": " + KV + ", \"intermediate_size\": " + I + ", \"num_hidden_layers\": " + L
                + ", \"vocab_size\": " + V + ", \"max_position_embeddings\": " + P + ", \"rms_norm_eps\": 1e-6,"
                + " \"rope_theta\": 500000.0, \"hidden_act\": \"silu\", \"rope_scaling\": null, \"tie_word_embeddings\": "
                + tied + extra + "}";
    }

    Path hfDir(String name, String config, Map<String, Tensor> weights, boolean sharded) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Files.writeString(d.resolve("config.json"), config);
        if (!sharded) {
            Safetensors.write(d.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        } else {
            Map<String, Tensor> a = new TreeMap<>(), b = new TreeMap<>();
            StringBuilder idx = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
            int k = 0;
            for (var e : weights.entrySet()) {
                String f = k % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (k++ % 2 == 0 ? a : b).put(e.getKey(), e.getValue());
                idx.append(k > 1 ? ", " : "").append('"').append(e.getKey()).append("\": \"").append(f).append('"');
            }
            Safetensors.write(d.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
            Safetensors.write(d.resolve("model-00002-of-00002.safetensors"), b, Map.of("format", "pt"));
            Files.writeString(d.resolve("model.safetensors.index.json"), idx.append("}}").toString());
        }
        return d;
    }

    static void assertSameTensors(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(new TreeMap<>(want).keySet(), new TreeMap<>(got).keySet());
        for (String n : want.keySet()) {
            assertArrayEquals(want.get(n).shape(), got.get(n).shape(), n);
            assertArrayEquals(want.get(n).floats(), got.get(n).floats(), n);
        }
    }

    @Test
    void llamaShardedRoundTrip() throws Exception {
        Map<String, Tensor> w = llamaWeights(false, false);
        Path dir = hfDir("llama", llamaConfig("LlamaForCausalLM", false, ""), w, true);
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Path out = tmp.resolve("out/llama.json");
        HfImport.Written wr = HfImport.run(dir, out, null);
        assertTrue(Files.exists(tmp.resolve("out/llama.safetensors")));
        assertTrue(Files.exists(tmp.resolve("out/tokenizer.json")));
        var c = ConfigLoader.load(out);
        assertEquals(D, c.modelDim());
        assertEquals(P, c.seqLen());
        assertEquals(500000.0, c.ropeBase());
        assertFalse(c.tieEmbeddings());
        PlainBlock pb = (PlainBlock) c.layers().getFirst();
        assertEquals(H, pb.heads());
        assertEquals(KV, pb.kvHeads());
        assertEquals(L, c.layers().size());
        assertArrayEquals(w.get("model.layers.1.mlp.down_proj.weight").floats(),
                wr.model().weights().get("blocks.1.mlp.proj.weight").floats());

        HfExport.Exported e = HfExport.write(c, wr.model().weights(), "test", tmp.resolve("back"), null);
        assertEquals("LlamaForCausalLM", e.architecture());
        assertSameTensors(w, e.weights());
        // the exported folder imports again to the same config
        assertEquals(c.blocks(), HfImport.read(tmp.resolve("back"), null, "llama").config().blocks());
    }

    @Test
    void qwen2HasQkvBiasesOnlyAndTiedHead() throws Exception {
        Map<String, Tensor> w = llamaWeights(true, true);
        Path dir = hfDir("qwen", llamaConfig("Qwen2ForCausalLM", true, ", \"use_sliding_window\": false, \"sliding_window\": 4"), w, false);
        HfImport.Imported m = HfImport.read(dir, 4, "qwen");
        assertTrue(m.config().attnBias());
        assertFalse(m.config().bias());
        assertTrue(m.config().tieEmbeddings());
        assertEquals(4, m.config().seqLen());
        assertTrue(m.weights().containsKey("blocks.0.attn.k.bias"));
        assertFalse(m.weights().containsKey("blocks.0.attn.proj.bias"));
        HfExport.Exported e = HfExport.map(m.config(), m.weights(), "test");
        assertEquals("Qwen2ForCausalLM", e.architecture());
        assertSameTensors(w, e.weights());
    }

    Map<String, Tensor> gpt2Weights(String prefix, int hidden) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put(prefix + "wte.weight", rand(V, D));
        w.put(prefix + "wpe.weight", rand(P, D));
        for (int i = 0; i < L; i++) {
            String p = prefix + "h." + i + ".";
            w.put(p + "ln_1.weight", rand(D));
            w.put(p + "ln_1.bias", rand(D));
            w.put(p + "attn.c_attn.weight", rand(D, 3 * D));
            w.put(p + "attn.c_attn.bias", rand(3 * D));
            w.put(p + "attn.c_proj.weight", rand(D, D));
            w.put(p + "attn.c_proj.bias", rand(D));
            w.put(p + "ln_2.weight", rand(D));
            w.put(p + "ln_2.bias", rand(D));
            w.put(p + "mlp.c_fc.weight", rand(D, hidden));
            w.put(p + "mlp.c_fc.bias", rand(hidden));
            w.put(p + "mlp.c_proj.weight", rand(hidden, D));
            w.put(p + "mlp.c_proj.bias", rand(D));
        }
        w.put(prefix + "ln_f.weight", rand(D));
        w.put(prefix + "ln_f.bias", rand(D));
        return w;
    }

    @Test
    void gpt2TransposesConv1dSplitsQkvAndRoundTrips() throws Exception {
        Map<String, Tensor> w = gpt2Weights("transformer.", 4 * D);
        Map<String, Tensor> withBuffer = new LinkedHashMap<>(w);
        withBuffer.put("transformer.h.0.attn.bias", rand(1, 1, P, P)); // the causal-mask buffer old checkpoints carry
        Path dir = hfDir("gpt2", "{\"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": " + D + ", \"n_head\": " + H
                + ", \"n_layer\": " + L + ", \"n_positions\": " + P + ", \"vocab_size\": " + V
                + ", \"n_inner\": null, \"activation_function\": \"gelu_new\", \"layer_norm_epsilon\": 1e-5}", withBuffer, false);
        HfImport.Imported m = HfImport.read(dir, null, "gpt2");
        var c = m.config();
        assertTrue(c.bias());
        assertTrue(c.tieEmbeddings());
        assertEquals(Activation.GELU_TANH, ((PlainBlock) c.layers().getFirst()).activation());
        assertEquals(4.0, c.mlpMult());
        // Conv1D is y = x·W with W [in,out]; mixlab's q weight [out,in] is the transpose of c_attn's first D columns
        float[] cattn = w.get("transformer.h.1.attn.c_attn.weight").floats(), q = m.weights().get("blocks.1.attn.q.weight").floats(),
                v = m.weights().get("blocks.1.attn.v.weight").floats();
        for (int o = 0; o < D; o++) {
            for (int i = 0; i < D; i++) {
                assertEquals(cattn[i * 3 * D + o], q[o * D + i]);
                assertEquals(cattn[i * 3 * D + 2 * D + o], v[o * D + i]);
            }
        }
        assertArrayEquals(Arrays.copyOfRange(w.get("transformer.h.0.attn.c_attn.bias").floats(), D, 2 * D),
                m.weights().get("blocks.0.attn.k.bias").floats());
        HfExport.Exported e = HfExport.map(c, m.weights(), "test");
        assertEquals("GPT2LMHeadModel", e.architecture());
        assertSameTensors(w, e.weights());

        // a shorter context keeps the first rows of the learned positions; the unprefixed naming also reads
        Path bare = hfDir("gpt2bare", Files.readString(dir.resolve("config.json")), gpt2Weights("", 4 * D), false);
        HfImport.Imported s = HfImport.read(bare, 4, "short");
        assertArrayEquals(new long[] {4, D}, s.weights().get("pos_emb.weight").shape());
    }

    @Test
    void unsupportedFeaturesAreRefusedNamingTheField() throws Exception {
        Map<String, Tensor> w = llamaWeights(false, false);
        Path scaled = hfDir("scaled", llamaConfig("LlamaForCausalLM", false,
                ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}").replace("\"rope_scaling\": null, ", ""), w, false);
        assertMessage(scaled, "rope_scaling", "supported: null");
        Path window = hfDir("window", llamaConfig("MistralForCausalLM", false, ", \"sliding_window\": 4"), w, false);
        assertMessage(window, "sliding_window 4 is smaller than the context written (seq_len 8)", "--seq-len 4");
        assertEquals(4, HfImport.read(window, 4, "ok").config().seqLen());
        Path gelu = hfDir("act", llamaConfig("LlamaForCausalLM", false, "").replace("\"silu\"", "\"gelu\""), w, false);
        assertMessage(gelu, "hidden_act", "silu");
        Path phi = hfDir("phi", "{\"architectures\": [\"PhiForCausalLM\"]}", w, false);
        assertMessage(phi, "PhiForCausalLM", "GPT2LMHeadModel");
        Map<String, Tensor> extra = new LinkedHashMap<>(w);
        extra.put("model.layers.0.self_attn.q_norm.weight", rand(D / H));
        Path qk = hfDir("qknorm", llamaConfig("LlamaForCausalLM", false, ""), extra, false);
        assertMessage(qk, "q_norm.weight", "no place");
    }

    void assertMessage(Path dir, String... parts) {
        HfException e = assertThrows(HfException.class, () -> HfImport.read(dir, null, "x"));
        for (String p : parts) assertTrue(e.getMessage().contains(p), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void exportRefusesConfigsWithoutAHuggingFaceTwin() {
        String base = "{\"model_dim\": 16, \"seq_len\": 8, \"vocab_size\": 40, ";
        var mlpBlock = ConfigLoader.parse(base + "\"blocks\": [{\"type\": \"plain\", \"heads\": 4}, {\"type\": \"mlp\"}]}", "a.json");
        assertTrue(assertThrows(HfException.class, () -> HfExport.layout(mlpBlock)).getMessage().contains("\"mlp\" block"));
        var noBias = ConfigLoader.parse(base + "\"blocks\": [{\"type\": \"plain\", \"heads\": 4}]}", "b.json");
        assertTrue(assertThrows(HfException.class, () -> HfExport.layout(noBias)).getMessage().contains("bias is false"));
        var interleaved = ConfigLoader.parse(base + "\"positional_embedding\": \"rope\", \"norm_type\": \"rmsnorm\","
                + " \"rope_interleaved\": true, \"blocks\": [{\"type\": \"plain\", \"heads\": 4, \"ffn\": \"swiglu\"}]}", "c.json");
        assertTrue(assertThrows(HfException.class, () -> HfExport.layout(interleaved)).getMessage().contains("rope_interleaved"));
        var golf = ConfigLoader.parse(base + "\"positional_embedding\": \"rope\", \"norm_type\": \"rmsnorm\","
                + " \"resid_mix\": true, \"blocks\": [{\"type\": \"plain\", \"heads\": 4, \"ffn\": \"swiglu\"}]}", "d.json");
        assertTrue(assertThrows(HfException.class, () -> HfExport.layout(golf)).getMessage().contains("resid_mix is true"));
    }
}
