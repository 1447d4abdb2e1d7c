package dev.mixlab.config;

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

    // Qwen3-Next-80B-A3B (Qwen/Qwen3-Next-80B-A3B-Instruct config.json; HF modeling_qwen3_next): hidden 2048, 48 layers,
    // layer_types 3 linear_attention : 1 full_attention (full_attention_interval 4), every layer MoE (512 experts of
    // moe_intermediate 512, top 10, softmax router normalised over the top k, one shared expert of 512,
    // router_aux_loss_coef 0.001); linear attention = gated DeltaNet with 16 key heads of 128 and 32 value heads of 128
    // (`value_heads`), conv kernel 4; full attention 16 heads, 2 KV heads, head_dim 256, RoPE theta 1e7 on the first
    // 25% (64) channels, q/k RMSNorm with weights (`qk_norm_weight`) and the sigmoid output gate (q_proj's second half:
    // `output_gate`); the shared expert's sigmoid gate (shared_expert_gate [1, 2048]: `shared_expert_gate`); RMSNorm
    // eps 1e-6; vocab 151936, untied. Not modelled (no parameters): zero-centred norm weights (1 + w: the same count),
    // the multi-token-prediction weights the checkpoint carries (ignored by HF). PresetsTest checks the published count.
    private static final String QWEN3_NEXT = """
            "positional_embedding": "rope", "rope_interleaved": false, "rope_base": 10000000.0, "norm_type": "rmsnorm",
            "norm_eps": 1e-6, "qk_norm": true, "qk_norm_weight": true, "bias": false, "attn_bias": false, "tie_embeddings": false""";
    private static final String QWEN3_NEXT_MOE = "\"type\": \"moe\", \"expert_ffn\": \"swiglu\", \"top_k\": 10,"
            + " \"shared_experts\": 1, \"shared_expert_gate\": true, \"router\": \"softmax\", \"aux_loss_coef\": 0.001";
    // Jamba-v0.1 (ai21labs/Jamba-v0.1 config.json; HF modeling_jamba): hidden 4096, 32 layers, attn_layer_period 8 with
    // offset 4 (one attention layer per 8: layers 4, 12, 20, 28), expert_layer_period 2 with offset 1 (MoE on odd
    // layers: 16 experts of SwiGLU 14336, top 2, router_aux_loss_coef 0.001), dense SwiGLU 14336 elsewhere; attention
    // 32 heads, 8 KV heads, no positional encoding; Mamba d_state 16, d_conv 4, expand 2 (conv bias, no projection
    // bias); RMSNorm eps 1e-6; vocab 65536, untied. Jamba's mixer is Mamba-1 (`mamba`: per-channel A [8192, 16], x_proj
    // to dt_rank 256 + B + C, dt_proj, dt/B/C RMSNorms as `dt_norm`). Jamba's router takes the top-2 softmax
    // probabilities without renormalising them (no parameters). PresetsTest checks the published count.
    private static final String JAMBA = """
            "positional_embedding": "none", "norm_type": "rmsnorm", "norm_eps": 1e-6, "bias": false, "attn_bias": false,
            "tie_embeddings": false""";
    private static final String JAMBA_MAMBA = "\"d_state\": 16, \"expand\": 2, \"conv_size\": 4, \"dt_norm\": true";
    private static final String JAMBA_MOE = "\"type\": \"moe\", \"mixer\": \"mamba\", " + JAMBA_MAMBA
            + ", \"expert_ffn\": \"swiglu\", \"top_k\": 2, \"router\": \"softmax\", \"aux_loss_coef\": 0.001";
    private static final String JAMBA_DENSE = "\"type\": \"mamba\", " + JAMBA_MAMBA + ", \"ffn\": \"swiglu\"";
    private static final String JAMBA_ATTN = "\"type\": \"plain\", \"ffn\": \"swiglu\"";

    /** Presets by name, in the order the docs and errors list them. */
    static final Map<String, Preset> ALL = new LinkedHashMap<>();

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
        add("qwen3_next_hybrid", "Qwen3-Next family: `moe` blocks (softmax router normalised over the top 10, one shared"
                        + " expert, SwiGLU experts, aux loss 0.001) whose mixer is `gated_deltanet` in three layers of four and"
                        + " `plain` attention (qk_norm, RoPE theta 1e7; give it `\"output_gate\": true` as Qwen3-Next) in the"
                        + " fourth: write the pattern as a `group`; a sigmoid gate on the shared expert; RMSNorm eps 1e-6, untied"
                        + " embeddings, weighted q/k norms; give the gated DeltaNet `value_heads` for grouped value heads.",
                "{" + QWEN3_NEXT + ", \"blocks\": [{" + QWEN3_NEXT_MOE + "}]}");
        add("qwen3-next-80b-a3b", "Qwen3-Next-80B-A3B (79,674,391,296 parameters, 3,874,929,408 active, as published):"
                        + " `qwen3_next_hybrid` with model_dim 2048, 12 × (3"
                        + " gated DeltaNet layers of 16 query/key heads of 128 and 32 value heads of 128, then 1 gated attention layer of 16 heads, 2 KV"
                        + " heads, head_dim 256, RoPE on 64 channels), each with 512 experts of SwiGLU 512 (top 10) and a"
                        + " shared one; vocab 151936, seq_len 4096.",
                "{\"model_dim\": 2048, \"vocab_size\": 151936, \"seq_len\": 4096, \"mlp_mult\": 2.5, \"rope_dims\": 64, "
                        + QWEN3_NEXT + ", \"blocks\": [{\"type\": \"group\", \"repeat\": 12, \"blocks\": [{" + QWEN3_NEXT_MOE
                        + ", \"mixer\": \"gated_deltanet\", \"heads\": 16, \"head_dim\": 128, \"value_heads\": 32, \"conv_size\": 4,"
                        + " \"experts\": 512, \"expert_mult\": 0.25, \"repeat\": 3}, {" + QWEN3_NEXT_MOE + ", \"heads\": 16,"
                        + " \"kv_heads\": 2, \"head_dim\": 256, \"output_gate\": true, \"experts\": 512, \"expert_mult\": 0.25}]}]}");
        add("jamba", "Jamba family: Mamba (Mamba-1, `mamba` with dt/B/C norms) layers and `plain` attention"
                        + " without positional encoding, SwiGLU FFNs, `moe` blocks with a `mamba` mixer (softmax top 2, aux loss"
                        + " 0.001); RMSNorm eps 1e-6, untied embeddings. Templates for `moe`, `mamba` and `plain` blocks; write"
                        + " the 8-layer pattern as a `group` (see `jamba-v0.1`).",
                "{" + JAMBA + ", \"blocks\": [{" + JAMBA_MOE + "}, {" + JAMBA_DENSE + "}, {" + JAMBA_ATTN + "}]}");
        add("jamba-v0.1", "Jamba-v0.1 (51,570,323,328 parameters, 12,110,311,296 active, as published): `jamba` with model_dim 4096,"
                        + " 4 × 8 layers: attention (32 heads, 8 KV heads) in layer 4 of each 8, Mamba (d_state 16, expand 2)"
                        + " in the other 7; MoE (16 experts of SwiGLU 14336, top 2) in every odd layer, dense SwiGLU 14336 in"
                        + " the even ones; vocab 65536, seq_len 4096. The router renormalises the top-2 probabilities"
                        + " (Jamba's does not).",
                "{\"model_dim\": 4096, \"vocab_size\": 65536, \"seq_len\": 4096, \"mlp_mult\": 3.5, " + JAMBA
                        + ", \"blocks\": [{\"type\": \"group\", \"repeat\": 4, \"blocks\": [{" + JAMBA_DENSE + "}, {" + JAMBA_MOE
                        + ", \"experts\": 16}, {" + JAMBA_DENSE + "}, {" + JAMBA_MOE + ", \"experts\": 16}, {" + JAMBA_ATTN
                        + ", \"heads\": 32, \"kv_heads\": 8}, {" + JAMBA_MOE + ", \"experts\": 16}, {" + JAMBA_DENSE + "}, {"
                        + JAMBA_MOE + ", \"experts\": 16}]}]}");
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
        return sb.toString();
    }
}
