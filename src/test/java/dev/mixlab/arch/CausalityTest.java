package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Causality proof for every block type and option: with random weights on the CPU backend, changing
 * the tokens after position t leaves the logits at positions 0..t bit-for-bit unchanged.
 */
class CausalityTest {
    static final String BASE = """
            {"model_dim": 24, "seq_len": 12, "vocab_size": 40, "positional_embedding": "%s", "norm_type": "%s",
             "blocks": [%s], %s "training": {"batch_tokens": 24}}
            """;

    static final String GOLF = "\"qk_norm\": true, \"q_gain\": true, \"branch_scales\": true, \"resid_mix\": true,"
            + " \"unet_skips\": true, \"logit_softcap\": 5, \"embed_norm\": true, \"norm_weight\": false,";

    static Stream<Arguments> cases() {
        String[][] models = {
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 3}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2}", ""},
                {"none", "layernorm", "{\"type\": \"plain\", \"heads\": 4}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"ffn\": \"swiglu\"}", ""},
                {"none", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"kv_heads\": 1}, {\"type\": \"mlp\", \"activation\": \"relu2\"},"
                        + " {\"type\": \"swiglu\"}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"mlp\"}, {\"type\": \"plain\", \"heads\": 6, \"kv_heads\": 3}", "\"bias\": true,"},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"activation\": \"relu2\", \"repeat\": 3}",
                        GOLF + " \"rope_dims\": 4,"},
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 2}, {\"type\": \"mlp\"}, {\"type\": \"swiglu\"},"
                        + " {\"type\": \"plain\", \"heads\": 3, \"kv_heads\": 1}", GOLF},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"repeat\": 2}", "\"qk_norm\": true, \"zero_init_proj\": true,"},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"window_size\": 3},"
                        + " {\"type\": \"plain\", \"heads\": 2, \"window_size\": 5, \"ffn\": \"swiglu\"}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 3, \"window_size\": 1, \"repeat\": 2}", GOLF},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"attn_softcap\": 0.5},"
                        + " {\"type\": \"plain\", \"heads\": 2, \"window_size\": 5, \"attn_softcap\": 3, \"ffn\": \"swiglu\"}", ""},
                // recurrent mixers: retention (with RoPE) and mLSTM, mixed with attention, FFN tails and the golf options
                {"rope", "rmsnorm", "{\"type\": \"retnet\", \"heads\": 2}, {\"type\": \"plain\", \"heads\": 2},"
                        + " {\"type\": \"retnet\", \"heads\": 3, \"value_dim\": 5, \"ffn\": \"swiglu\"}", ""},
                {"none", "layernorm", "{\"type\": \"mlstm\", \"heads\": 2}, {\"type\": \"mlstm\", \"ffn\": \"none\"}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"mlstm\", \"heads\": 3, \"head_dim\": 5}, {\"type\": \"retnet\", \"heads\": 4}",
                        GOLF},
                // RWKV-6 time + channel mixing (4 heads of 6), alone and next to attention and retention
                {"none", "layernorm", "{\"type\": \"rwkv\", \"head_size\": 6, \"mix_lora_dim\": 3, \"decay_lora_dim\": 5, \"repeat\": 2}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2}, {\"type\": \"rwkv\", \"head_size\": 12, \"mlp_mult\": 3.5},"
                        + " {\"type\": \"retnet\", \"heads\": 2}", GOLF},
                // ALiBi without positional embeddings: 6 heads (not a power of two), one layer also windowed and softcapped
                {"none", "rmsnorm", "{\"type\": \"plain\", \"heads\": 6, \"kv_heads\": 3, \"alibi\": true},"
                        + " {\"type\": \"plain\", \"heads\": 4, \"window_size\": 4, \"attn_softcap\": 2, \"alibi\": true}", ""},
                // multi-head latent attention: default dims (v narrower than q/k: zero-padded values)
                {"rope", "rmsnorm", "{\"type\": \"mla\", \"heads\": 4}", ""},
                // query latent, values wider than q/k (zero-padded queries and keys), a swiglu tail, beside plain and mlp blocks
                {"learned_absolute", "layernorm", "{\"type\": \"mla\", \"heads\": 3, \"kv_lora_rank\": 10, \"q_lora_rank\": 8,"
                        + " \"qk_nope_head_dim\": 3, \"qk_rope_head_dim\": 2, \"v_head_dim\": 7, \"ffn\": \"swiglu\"},"
                        + " {\"type\": \"plain\", \"heads\": 2}, {\"type\": \"mlp\"}", ""},
                // no decoupled RoPE, equal widths, interleaved RoPE config, golf options around the block
                {"none", "rmsnorm", "{\"type\": \"mla\", \"heads\": 2, \"qk_rope_head_dim\": 0, \"kv_lora_rank\": 6, \"ffn\": \"none\"},"
                        + " {\"type\": \"mla\", \"heads\": 2, \"qk_nope_head_dim\": 4, \"qk_rope_head_dim\": 4, \"v_head_dim\": 8,"
                        + " \"q_lora_rank\": 5, \"repeat\": 2}", GOLF + " \"rope_interleaved\": true,"},
                // mixture of experts without a capacity limit: softmax top-2 SwiGLU experts + a shared expert, then
                // sigmoid top-1 gelu experts with the balancing bias (perturbed, so it steers the choice)
                {"rope", "rmsnorm", "{\"type\": \"moe\", \"heads\": 4, \"kv_heads\": 2, \"experts\": 4, \"top_k\": 2,"
                        + " \"shared_experts\": 1, \"expert_mult\": 1.5},"
                        + " {\"type\": \"moe\", \"heads\": 2, \"experts\": 3, \"top_k\": 1, \"router\": \"sigmoid\","
                        + " \"expert_ffn\": \"mlp\", \"bias_balancing\": true}", ""},
                // DeepSeek-V3's layout in small: a dense mla layer, then moe layers with latent attention (query latent,
                // values wider than q/k) and sigmoid top-2 routing with a shared expert and the balancing bias; then a
                // moe layer with plain attention whose layer pattern makes the second layer global
                {"rope", "rmsnorm", "{\"type\": \"mla\", \"heads\": 2, \"q_lora_rank\": 8, \"ffn\": \"swiglu\"},"
                        + " {\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 3, \"kv_lora_rank\": 10, \"q_lora_rank\": 8,"
                        + " \"qk_nope_head_dim\": 4, \"qk_rope_head_dim\": 2, \"v_head_dim\": 7, \"experts\": 4, \"top_k\": 2,"
                        + " \"shared_experts\": 1, \"router\": \"sigmoid\", \"bias_balancing\": true, \"expert_mult\": 0.5, \"repeat\": 2},"
                        + " {\"type\": \"moe\", \"heads\": 2, \"experts\": 3, \"window_size\": 3, \"layer_pattern\": \"LG\", \"repeat\": 2}",
                        ""},
                {"none", "layernorm", "{\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 2, \"qk_rope_head_dim\": 0,"
                        + " \"kv_lora_rank\": 6, \"experts\": 3, \"top_k\": 1, \"expert_ffn\": \"mlp\", \"activation\": \"relu2\", \"repeat\": 3}",
                        GOLF},
                // hybrids with experts after recurrent mixers (Qwen3-Next: gated DeltaNet; Jamba: Mamba) beside attention
                {"rope", "rmsnorm", "{\"type\": \"group\", \"repeat\": 2, \"blocks\": [{\"type\": \"moe\", \"mixer\": \"gated_deltanet\","
                        + " \"heads\": 2, \"expand_v\": 2, \"experts\": 4, \"top_k\": 2, \"shared_experts\": 1, \"expert_mult\": 0.5},"
                        + " {\"type\": \"moe\", \"heads\": 4, \"kv_heads\": 2, \"experts\": 4, \"top_k\": 2, \"expert_mult\": 0.5}]}", ""},
                {"none", "rmsnorm", "{\"type\": \"moe\", \"mixer\": \"mamba2\", \"d_state\": 4, \"head_dim\": 8, \"experts\": 3,"
                        + " \"router\": \"sigmoid\", \"bias_balancing\": true}, {\"type\": \"mamba2\", \"d_state\": 4, \"head_dim\": 12},"
                        + " {\"type\": \"plain\", \"heads\": 2}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2}, {\"type\": \"plain\", \"heads\": 2,"
                        + " \"differential\": true}", "\"qk_norm\": true, \"qk_norm_weight\": true,"},
                // grouped value heads (Qwen3-Next): 2 query/key heads serving 4 and 6 value heads
                {"rope", "rmsnorm", "{\"type\": \"gated_deltanet\", \"heads\": 2, \"value_heads\": 4},"
                        + " {\"type\": \"moe\", \"mixer\": \"gated_deltanet\", \"heads\": 2, \"value_heads\": 6, \"expand_v\": 2,"
                        + " \"experts\": 3}", ""},
                // Mamba (Mamba-1, Jamba's mixer): plain and with Jamba's dt/B/C norms, alone and as a moe mixer
                {"none", "rmsnorm", "{\"type\": \"mamba\", \"d_state\": 4}, {\"type\": \"mamba\", \"d_state\": 3, \"dt_norm\": true,"
                        + " \"dt_rank\": 5, \"ffn\": \"none\"}, {\"type\": \"moe\", \"mixer\": \"mamba\", \"d_state\": 4, \"experts\": 3}", ""},
                // gated attention (Qwen3-Next): the output gate on plain attention and on a moe block's attention,
                // whose shared expert is gated too, after a gated DeltaNet moe layer
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"output_gate\": true},"
                        + " {\"type\": \"moe\", \"mixer\": \"gated_deltanet\", \"heads\": 2, \"experts\": 3, \"shared_experts\": 1,"
                        + " \"shared_expert_gate\": true}, {\"type\": \"moe\", \"heads\": 2, \"experts\": 3, \"shared_experts\": 1,"
                        + " \"shared_expert_gate\": true, \"output_gate\": true, \"window_size\": 4}", ""},
                // chunked attention (Llama 4): chunks of 4 and 5 (with a window) cross the prompt and later positions
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"attn_chunk_size\": 4},"
                        + " {\"type\": \"plain\", \"heads\": 2, \"attn_chunk_size\": 5, \"window_size\": 3, \"ffn\": \"swiglu\"}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"attn_chunk_size\": 3, \"alibi\": true, \"attn_softcap\": 2,"
                        + " \"repeat\": 2}", GOLF + " \"rope_dims\": 4,"},
                // local/global layer patterns: sliding-window and chunked local layers
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"window_size\": 3, \"layer_pattern\": \"LLG\", \"repeat\": 4},"
                        + " {\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 1, \"attn_chunk_size\": 4, \"layer_pattern\": \"GL\", \"repeat\": 2}", ""},
                // a group repeating a local/global sub-list, then a plain layer
                {"learned_absolute", "layernorm", "{\"type\": \"group\", \"repeat\": 2, \"blocks\": [{\"type\": \"plain\", \"heads\": 2,"
                        + " \"window_size\": 2, \"repeat\": 2}, {\"type\": \"mlp\"}, {\"type\": \"group\", \"blocks\": [{\"type\": \"plain\","
                        + " \"heads\": 3}]}]}, {\"type\": \"swiglu\"}", ""},
                // a plug-in block (test-scope GatedMlpProvider, found through ServiceLoader) inside a group
                {"rope", "rmsnorm", "{\"type\": \"group\", \"repeat\": 2, \"blocks\": [{\"type\": \"plain\", \"heads\": 2, \"ffn\": \"none\"},"
                        + " {\"type\": \"gated_mlp\", \"gate\": \"relu2\"}]}", ""},
                // differential attention: alone, with a window, chunks, softcap and the golf options (q gains, qk norm)
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"differential\": true, \"repeat\": 2},"
                        + " {\"type\": \"plain\", \"heads\": 3, \"head_dim\": 4, \"differential\": true, \"window_size\": 3, \"attn_chunk_size\": 5,"
                        + " \"attn_softcap\": 1}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 3, \"differential\": true, \"repeat\": 2}", GOLF},
                // Gemma 3 (window, global RoPE base 1e6) and Llama 4 iRoPE (chunked RoPE layers, NoPE global layers) patterns
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 2, \"window_size\": 3, \"layer_pattern\": \"LG\", \"global_rope_base\": 1e6,"
                        + " \"repeat\": 2}, {\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"attn_chunk_size\": 4, \"layer_pattern\": \"LLG\","
                        + " \"global_nope\": true, \"repeat\": 3}", ""},
                // recurrent mixers: gated delta rule and Mamba-2 (SSD), alone and in hybrids with attention
                {"none", "rmsnorm", "{\"type\": \"gated_deltanet\", \"heads\": 2, \"expand_v\": 2, \"ffn\": \"swiglu\"}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"gated_deltanet\", \"heads\": 3, \"conv_size\": 6},"
                        + " {\"type\": \"plain\", \"heads\": 2}", ""},
                {"none", "rmsnorm", "{\"type\": \"mamba2\", \"d_state\": 8, \"head_dim\": 12, \"ngroups\": 2, \"ffn\": \"none\", \"repeat\": 2}", ""},
                {"rope", "rmsnorm", "{\"type\": \"mamba2\", \"d_state\": 4, \"head_dim\": 8, \"conv_size\": 3},"
                        + " {\"type\": \"plain\", \"heads\": 2}, {\"type\": \"gated_deltanet\", \"heads\": 2, \"head_dim\": 6}", GOLF},
                // every kind of recurrent state in one model: retention, a group of Mamba-2 and RWKV-6 layers, gated delta rule
                {"rope", "rmsnorm", "{\"type\": \"retnet\", \"heads\": 2}, {\"type\": \"group\", \"repeat\": 2, \"blocks\":"
                        + " [{\"type\": \"mamba2\", \"d_state\": 4, \"head_dim\": 8}, {\"type\": \"rwkv\", \"head_size\": 12,"
                        + " \"mix_lora_dim\": 2, \"decay_lora_dim\": 3}]}, {\"type\": \"mlstm\", \"heads\": 2, \"ffn\": \"none\"},"
                        + " {\"type\": \"gated_deltanet\", \"heads\": 3}", ""},
        };
        return Stream.of(models).map(m -> Arguments.of(m[0] + " " + m[2] + " " + m[3], BASE.formatted(m[0], m[1], m[2], m[3])));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void futureTokensDoNotChangePastLogits(String name, String json) {
        assertCausal(ConfigLoader.parse(json, "causality.json"));
    }

    /** A window covering the whole sequence is full causal attention, bit for bit, on both CPU backends. */
    @ParameterizedTest(name = "window {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {12, 13, 100})
    void windowAtLeastSeqLenEqualsFullAttention(int window) {
        String blocks = "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2%s}, {\"type\": \"plain\", \"heads\": 3%s}";
        Config full = ConfigLoader.parse(BASE.formatted("rope", "rmsnorm", blocks.formatted("", ""), ""), "full.json");
        String w = ", \"window_size\": " + window;
        Config windowed = ConfigLoader.parse(BASE.formatted("rope", "rmsnorm", blocks.formatted(w, w), ""), "window.json");
        for (dev.mixlab.backend.Backend backend : new dev.mixlab.backend.Backend[] {new CpuBackend(), new dev.mixlab.backend.reference.ReferenceBackend()}) {
            double[] a = logits(full, backend), b = logits(windowed, backend);
            assertArrayEquals(a, b, 0.0, backend + ": window " + window + " differs from full attention");
            // and a window one short of the sequence does change the logits (the option is live)
            String s = ", \"window_size\": " + (full.seqLen() - 1);
            Config shorter = ConfigLoader.parse(BASE.formatted("rope", "rmsnorm", blocks.formatted(s, s), ""), "shorter.json");
            assertFalse(java.util.Arrays.equals(a, logits(shorter, backend)), backend + ": window seq_len-1 changed nothing");
        }
    }

    /** Logits of the training forward program (batch 2) on seeded random weights and tokens. */
    static double[] logits(Config c, dev.mixlab.backend.Backend backend) {
        int batch = 2;
        Program fwd = Programs.forward(c, batch);
        Map<String, float[]> weights = ParamInit.values(fwd, 5);
        Random r = new Random(3);
        int[] ids = new int[batch * c.seqLen()];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(c.vocabSize());
        try (Executable e = backend.compile(fwd)) {
            for (Value p : fwd.params()) {
                float[] w = weights.get(p.name()).clone();
                for (int i = 0; i < w.length; i++) w[i] += (float) (0.2 * r.nextGaussian());
                e.setFloats(p.name(), w);
            }
            e.setInts(Programs.TARGETS, new int[ids.length]);
            e.setInts(Programs.IDS, ids);
            e.run();
            return e.getDoubles("logits");
        }
    }

    /** Runs the forward program on random weights, then with the tokens after t replaced, for several t. */
    static void assertCausal(Config c) {
        int batch = 2, t = c.seqLen(), v = c.vocabSize();
        Random r = new Random(7);
        Program fwd = Programs.forward(c, batch);
        Map<String, float[]> weights = ParamInit.values(fwd, 11);
        for (Value p : fwd.params()) {
            // zero- or constant-initialised tensors (projections, gains, resid_mix ...): perturb so every path counts
            float[] w = weights.get(p.name());
            for (int i = 0; i < w.length; i++) w[i] += (float) (0.2 * r.nextGaussian());
        }
        int[] ids = new int[batch * t];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(v);
        try (Executable e = new CpuBackend().compile(fwd)) {
            for (Value p : fwd.params()) e.setFloats(p.name(), weights.get(p.name()));
            e.setInts(Programs.TARGETS, new int[ids.length]);
            e.setInts(Programs.IDS, ids);
            e.run();
            float[] base = e.getFloats("logits");
            for (int cut : new int[] {0, 1, t / 2, t - 2}) {
                int[] changed = ids.clone();
                for (int b = 0; b < batch; b++) {
                    for (int i = cut + 1; i < t; i++) changed[b * t + i] = (ids[b * t + i] + 1 + r.nextInt(v - 1)) % v;
                }
                e.setInts(Programs.IDS, changed);
                e.run();
                float[] got = e.getFloats("logits");
                boolean anyLater = false;
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < t; i++) {
                        for (int k = 0; k < v; k++) {
                            int o = (b * t + i) * v + k;
                            if (i <= cut) {
                                assertEquals(Float.floatToRawIntBits(base[o]), Float.floatToRawIntBits(got[o]),
                                        "t=" + cut + ": logit changed at b" + b + " pos " + i + " vocab " + k);
                            } else if (base[o] != got[o]) {
                                anyLater = true;
                            }
                        }
                    }
                }
                assertTrue(anyLater, "t=" + cut + ": changing the later tokens changed no later logit (the test would prove nothing)");
            }
        }
    }
}
