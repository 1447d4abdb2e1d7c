package dev.mixlab.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code "preset": NAME}: a family's (or a reference model's) fields, applied under the user's file.
 * The preset's JSON comes first, the user's JSON is laid over it (objects merge key by key, other
 * values replace), then the result is bound and validated as usual. A preset's {@code blocks} holds
 * one block template (applied by {@link PresetOverlay}, kept apart so the doc generator needs no Jackson): every block of the user's {@code blocks} that has no {@code type}, or the
 * template's type, is laid over that template, so {@code {"heads": 8, "repeat": 6}} is enough.
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
        NOT_BUILT.put("deepseek_v3", "mla");
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
                .append(" A preset's `blocks` is a block template: each block of the file's `blocks` without a `type`")
                .append(" (or with the template's type) is laid over it, so a family needs only the size, e.g.")
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
