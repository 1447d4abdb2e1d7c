package dev.mixlab.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code "preset": NAME}: a family's (or a reference model's) fields, applied under the user's file.
 * The preset's JSON comes first, the user's JSON is laid over it (objects merge key by key, other
 * values replace), then the result is bound and validated as usual. A preset's {@code blocks} are
 * block templates (applied by {@link PresetOverlay}, kept apart so the doc generator needs no Jackson): every block
 * of the user's {@code blocks} is laid over the first template of its {@code type} (one without a type over the
 * first template), so {@code {"heads": 8, "repeat": 6}} is enough.
 */
public final class Presets {
    private Presets() {}

    /** One preset. */
    record Preset(String name, String description, String json) {}

    private static final String GPT2 = """
            "vocab_size": 50257, "seq_len": 1024, "mlp_mult": 4.0, "tie_embeddings": true,
            "positional_embedding": "learned_absolute", "norm_type": "layernorm", "norm_eps": 1e-5,
            "bias": true, "attn_bias": true, "init_std": 0.02""";
    private static final String GPT2_BLOCK = "\"type\": \"plain\", \"activation\": \"gelu_tanh\", \"ffn\": \"mlp\"";
    private static final String LLAMA = """
            "positional_embedding": "rope", "rope_interleaved": false, "norm_type": "rmsnorm", "norm_eps": 1e-5,
            "bias": false, "attn_bias": false, "init_std": 0.02""";
    private static final String LLAMA_BLOCK = "\"type\": \"plain\", \"ffn\": \"swiglu\"";
    private static final String MIXTRAL_BLOCK = "\"type\": \"moe\", \"expert_ffn\": \"swiglu\", \"top_k\": 2,"
            + " \"router\": \"softmax\", \"shared_experts\": 0, \"aux_loss_coef\": 0.02";

    // DeepSeek-V3 (deepseek-ai/DeepSeek-V3 config.json): MLA in every layer (q_lora_rank 1536, kv_lora_rank 512,
    // qk_nope 128, qk_rope 64, v_head_dim 128), RMSNorm eps 1e-6, RoPE theta 10000 on the decoupled RoPE channels,
    // interleaved pairs as DeepSeek's inference code (view_as_complex; HF permutes the channels to match), untied
    // embeddings; MoE layers: 256 routed SwiGLU experts of moe_intermediate 2048, top 8, 1 shared expert, sigmoid
    // scores normalised over the top k (norm_topk_prob), auxiliary-loss-free bias balancing ("noaux_tc"; the HF
    // checkpoint stores the bias as e_score_correction_bias). Not modelled (parameter-free, so counts are exact):
    // group-limited routing (n_group 8, topk_group 4), routed_scaling_factor 2.5, the YaRN RoPE extension
    // (factor 40 over 4096 positions), the multi-token-prediction module (num_nextn_predict_layers 1) and the
    // report's complementary sequence-wise balance loss (alpha 0.0001; mixlab's aux loss is per batch, so it is off).
    // init_std 0.006 is the technical report's (arXiv:2412.19437, section 4.2), not config.json's initializer_range.
    private static final String DEEPSEEK = """
            "positional_embedding": "rope", "rope_interleaved": true, "rope_base": 10000.0, "norm_type": "rmsnorm",
            "norm_eps": 1e-6, "bias": false, "attn_bias": false, "tie_embeddings": false, "init_std": 0.006""";
    private static final String DEEPSEEK_MLA = "\"q_lora_rank\": 1536, \"kv_lora_rank\": 512, \"qk_nope_head_dim\": 128,"
            + " \"qk_rope_head_dim\": 64, \"v_head_dim\": 128, \"activation\": \"silu\"";
    private static final String DEEPSEEK_DENSE_BLOCK = "\"type\": \"mla\", \"ffn\": \"swiglu\"";
    private static final String DEEPSEEK_MOE_BLOCK = "\"type\": \"moe\", \"mixer\": \"mla\", \"expert_ffn\": \"swiglu\","
            + " \"top_k\": 8, \"shared_experts\": 1, \"router\": \"sigmoid\", \"bias_balancing\": true,"
            + " \"aux_loss_coef\": 0.0";

    /** Presets by name, in the order the docs and errors list them. */
    static final Map<String, Preset> ALL = new LinkedHashMap<>();

    /** Families that need a block type that is not built yet: name to the missing block type. */
    static final Map<String, String> NOT_BUILT = new LinkedHashMap<>();

    static {
        add("gpt2", "GPT-2 family: LayerNorm with bias, learned positions, biases everywhere, gelu_tanh MLP ×4,"
                + " tied embeddings, vocab 50257, seq_len 1024; give model_dim and blocks (heads, repeat).",
                "{" + GPT2 + ", \"blocks\": [{" + GPT2_BLOCK + "}]}");
        add("gpt2-small", "GPT-2 small (124M): `gpt2` with model_dim 768, 12 layers of 12 heads.",
                "{\"model_dim\": 768, " + GPT2 + ", \"blocks\": [{" + GPT2_BLOCK + ", \"heads\": 12, \"repeat\": 12}]}");
        add("llama", "Llama family: RMSNorm eps 1e-5, RoPE (half rotation), SwiGLU, no biases, grouped-query"
                + " attention; give model_dim, vocab_size, seq_len, mlp_mult and blocks (heads, kv_heads, repeat).",
                "{" + LLAMA + ", \"blocks\": [{" + LLAMA_BLOCK + "}]}");
        add("llama-3.2-1b", "Llama 3.2 1B: `llama` with model_dim 2048, 16 layers of 32 heads (8 KV heads,"
                        + " head_dim 64), SwiGLU hidden 8192, vocab 128256, tied embeddings, rope_base 500000, seq_len 2048.",
                "{\"model_dim\": 2048, \"vocab_size\": 128256, \"seq_len\": 2048, \"mlp_mult\": 4.0,"
                        + " \"tie_embeddings\": true, \"rope_base\": 500000.0, " + LLAMA + ", \"blocks\": [{" + LLAMA_BLOCK
                        + ", \"heads\": 32, \"kv_heads\": 8, \"head_dim\": 64, \"repeat\": 16}]}");
        // Mixtral-8x7B (mistralai/Mixtral-8x7B-v0.1 config.json): hidden 4096, 32 layers, 32 heads, 8 KV heads,
        // intermediate 14336 (= 3.5 x 4096), vocab 32000, 8 experts, top-2, untied embeddings, RMSNorm eps 1e-5,
        // RoPE theta 1e6, router_aux_loss_coef 0.02, max_position_embeddings 32768 (seq_len here 4096, as llama-3.2-1b's is shortened too).
        add("mixtral", "Mixtral family: `llama` style (RMSNorm, RoPE half rotation, no biases) with `moe` blocks of"
                        + " top-2 SwiGLU experts, softmax router, no shared experts, untied embeddings; give model_dim,"
                        + " vocab_size, seq_len, mlp_mult and blocks (heads, kv_heads, experts, repeat).",
                "{" + LLAMA + ", \"tie_embeddings\": false, \"blocks\": [{" + MIXTRAL_BLOCK + "}]}");
        add("mixtral-8x7b", "Mixtral 8x7B (46.7B parameters, 12.9B active): `mixtral` with model_dim 4096, 32 layers of"
                        + " 32 heads (8 KV heads), 8 experts of SwiGLU hidden 14336, top-2, vocab 32000, rope_base 1e6,"
                        + " seq_len 4096.",
                "{\"model_dim\": 4096, \"vocab_size\": 32000, \"seq_len\": 4096, \"mlp_mult\": 3.5,"
                        + " \"tie_embeddings\": false, \"rope_base\": 1000000.0, " + LLAMA + ", \"blocks\": [{" + MIXTRAL_BLOCK
                        + ", \"heads\": 32, \"kv_heads\": 8, \"experts\": 8, \"repeat\": 32}]}");
        add("deepseek_v3", "DeepSeek-V3 family: `moe` blocks with `\"mixer\": \"mla\"` (multi-head latent attention),"
                        + " sigmoid router normalised over the top 8, 1 shared expert, auxiliary-loss-free bias balancing, SwiGLU"
                        + " experts; RMSNorm eps 1e-6, interleaved RoPE on the decoupled RoPE channels, untied embeddings. Give"
                        + " model_dim, vocab_size, seq_len, mlp_mult and blocks (heads, the MLA ranks and widths, experts,"
                        + " expert_mult, repeat); dense first layers are `mla` blocks (their template: `\"ffn\": \"swiglu\"`). Not modelled"
                        + " (no parameters): group-limited routing (n_group/topk_group), routed_scaling_factor, YaRN, the"
                        + " multi-token-prediction module.",
                "{" + DEEPSEEK + ", \"blocks\": [{" + DEEPSEEK_MOE_BLOCK + "}, {" + DEEPSEEK_DENSE_BLOCK + "}]}");
        // 18432 / 7168 and 2048 / 7168 as doubles: round(7168 · mult) gives the published widths exactly.
        add("deepseek-v3", "DeepSeek-V3 (671B parameters, 37B active; without the 14B multi-token-prediction module that"
                        + " the 685B on Hugging Face includes): `deepseek_v3` with model_dim 7168, 61 layers of 128-head MLA"
                        + " (q_lora_rank 1536, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head_dim 128); the first 3 with a"
                        + " dense SwiGLU FFN of 18432, the other 58 with 256 routed experts of SwiGLU 2048 (top 8) and one"
                        + " shared expert; vocab 129280, seq_len 4096 (the pre-YaRN context).",
                "{\"model_dim\": 7168, \"vocab_size\": 129280, \"seq_len\": 4096, \"mlp_mult\": " + (18432.0 / 7168) + ", "
                        + DEEPSEEK + ", \"blocks\": [{" + DEEPSEEK_DENSE_BLOCK + ", \"heads\": 128, " + DEEPSEEK_MLA
                        + ", \"repeat\": 3}, {" + DEEPSEEK_MOE_BLOCK + ", \"heads\": 128, " + DEEPSEEK_MLA
                        + ", \"experts\": 256, \"expert_mult\": " + (2048.0 / 7168) + ", \"repeat\": 58}]}");
        NOT_BUILT.put("qwen3_next_hybrid", "gated_deltanet");
        NOT_BUILT.put("jamba", "mamba2");
    }

    private static void add(String name, String description, String json) {
        ALL.put(name, new Preset(name, description, json));
    }

    /** @return the names of the available presets, in order */
    public static List<String> names() {
        return List.copyOf(ALL.keySet());
    }

    /** @return the Markdown section documenting presets, for the generated reference */
    static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("\n## Presets\n\n")
                .append("A top-level `\"preset\": NAME` fills in a family's fields. The preset is applied first and the")
                .append(" file laid over it: every field the file gives wins (objects such as `training` merge key by key).")
                .append(" A preset's `blocks` are block templates: each block of the file's `blocks` is laid over the")
                .append(" first template of its `type` (without a `type`: over the first template), so a family needs")
                .append(" only the size, e.g.")
                .append(" `{\"preset\": \"llama\", \"model_dim\": 512, \"vocab_size\": 32000, \"seq_len\": 1024,")
                .append(" \"blocks\": [{\"heads\": 8, \"kv_heads\": 2, \"repeat\": 8}]}`; a file without `blocks`")
                .append(" keeps the preset's (complete for the reference sizes).\n\n")
                .append("| preset | meaning |\n|---|---|\n");
        for (Preset p : ALL.values()) {
            sb.append("| `").append(p.name()).append("` | ").append(p.description().replace("|", "\\|")).append(" |\n");
        }
        sb.append("\nNot built yet (refused with an error naming the missing block type): ");
        List<String> nb = new ArrayList<>();
        NOT_BUILT.forEach((k, v) -> nb.add("`" + k + "` (`" + v + "`)"));
        sb.append(String.join(", ", nb)).append(".\n");
        return sb.toString();
    }
}
