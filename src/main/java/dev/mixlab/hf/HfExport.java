package dev.mixlab.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.config.Activation;
import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.Config;
import dev.mixlab.config.FfnType;
import dev.mixlab.config.NormType;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.config.PositionalEmbedding;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a mixlab model as a Hugging Face directory: Llama-style configs (RoPE, RMSNorm, SwiGLU) as
 * {@code LlamaForCausalLM} (or {@code Qwen2ForCausalLM} when only q/k/v have biases), GPT-2-style
 * configs (learned positions, LayerNorm with biases, MLP) as {@code GPT2LMHeadModel}. Others are
 * refused with the reason.
 */
public final class HfExport {
    private HfExport() {}

    /**
     * @param architecture the HF architecture chosen
     * @param config       the HF {@code config.json}
     * @param weights      tensors in HF names and layouts
     */
    public record Exported(String architecture, ObjectNode config, Map<String, Tensor> weights) {}

    /** Maps {@code c} and its {@code weights} (mixlab names) to Hugging Face's. */
    public static Exported map(Config c, Map<String, Tensor> weights, String where) {
        HfModels.Layout layout = layout(c);
        PlainBlock pb = HfModels.plain(c);
        ObjectNode hf = HfImport.JSON.createObjectNode();
        String arch;
        int d = c.modelDim(), layers = c.layers().size(), hidden = (int) Math.round(d * pb.mlpMult());
        if (layout == HfModels.Layout.LLAMA) {
            boolean qwen = c.attnBias() && !c.bias();
            arch = qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
            if (qwen && pb.headDim() * pb.heads() != d) {
                throw new HfException(where + ": head_dim " + pb.headDim() + " with attn_bias cannot be exported: Qwen2"
                        + " needs head_dim = model_dim / heads (supported: head_dim " + d / pb.heads() + ")");
            }
            hf.putArray("architectures").add(arch);
            hf.put("model_type", qwen ? "qwen2" : "llama");
            hf.put("vocab_size", c.vocabSize());
            hf.put("hidden_size", d);
            hf.put("intermediate_size", hidden);
            hf.put("num_hidden_layers", layers);
            hf.put("num_attention_heads", pb.heads());
            hf.put("num_key_value_heads", pb.kvHeads());
            if (!qwen) hf.put("head_dim", pb.headDim());
            hf.put("hidden_act", "silu");
            hf.put("max_position_embeddings", c.seqLen());
            hf.put("rms_norm_eps", c.normEps());
            hf.put("rope_theta", c.ropeBase());
            hf.putNull("rope_scaling");
            if (qwen) {
                hf.put("use_sliding_window", false);
                hf.putNull("sliding_window");
            } else {
                hf.put("attention_bias", c.bias());
                hf.put("mlp_bias", c.bias());
            }
            hf.put("attention_dropout", 0.0);
        } else {
            arch = "GPT2LMHeadModel";
            hf.putArray("architectures").add(arch);
            hf.put("model_type", "gpt2");
            hf.put("vocab_size", c.vocabSize());
            hf.put("n_positions", c.seqLen());
            hf.put("n_ctx", c.seqLen());
            hf.put("n_embd", d);
            hf.put("n_layer", layers);
            hf.put("n_head", pb.heads());
            hf.put("n_inner", hidden);
            hf.put("activation_function", switch (pb.activation()) {
                case GELU_TANH -> "gelu_new";
                case GELU -> "gelu";
                case RELU -> "relu";
                case SILU -> "silu";
                case RELU2 -> throw new IllegalStateException("checked by layout()");
            });
            hf.put("layer_norm_epsilon", c.normEps());
            hf.put("scale_attn_weights", true);
            hf.put("resid_pdrop", c.dropout());
            hf.put("embd_pdrop", c.dropout());
            hf.put("attn_pdrop", c.dropout());
        }
        hf.put("tie_word_embeddings", c.tieEmbeddings());
        hf.put("initializer_range", c.initStd());
        hf.put("torch_dtype", "float32");

        Map<String, long[]> want = HfImport.shapes(c);
        for (var e : want.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (t == null) throw new HfException(where + ": no tensor \"" + e.getKey() + "\" for this config");
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new HfException(where + ": tensor \"" + e.getKey() + "\" has shape " + Mats.show(t.shape())
                        + ", the config needs " + Mats.show(e.getValue()));
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Rule r : HfModels.rules(layout, c, "transformer.")) {
            Mats m = Mats.concatRows(r.mix().stream().map(n -> Mats.of(weights.get(n))).toArray(Mats[]::new));
            if (r.transpose()) m = m.transpose();
            out.put(r.hf(), m.tensor());
        }
        return new Exported(arch, hf, out);
    }

    /** Writes {@code config.json}, {@code model.safetensors} and (if given) {@code tokenizer.json} into {@code dir}. */
    public static Exported write(Config c, Map<String, Tensor> weights, String where, Path dir, Path tokenizer) {
        Exported e = map(c, weights, where);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), HfImport.JSON.writeValueAsString(e.config()) + "\n");
            // transformers refuses safetensors without format "pt"
            Safetensors.write(dir.resolve("model.safetensors"), e.weights(), Map.of("format", "pt"));
            if (tokenizer != null) Files.copy(tokenizer, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write " + dir + ": " + ex.getMessage(), ex);
        }
        return e;
    }

    /** Which HF layout the config maps to; refuses with the first field that maps to neither. */
    static HfModels.Layout layout(Config c) {
        String golf = "; Hugging Face Llama and GPT-2 have no such part (use false)";
        need(!c.qkNorm(), "qk_norm", "true", "it adds a q/k norm" + golf);
        need(!c.qGain(), "q_gain", "true", "it adds per-head q gains" + golf);
        need(!c.branchScales(), "branch_scales", "true", "it adds attn_scale/mlp_scale" + golf);
        need(!c.residMix(), "resid_mix", "true", "it adds resid_mix" + golf);
        need(!c.unetSkips(), "unet_skips", "true", "it adds U-Net skips" + golf);
        need(!c.embedNorm(), "embed_norm", "true", "it adds an embedding norm" + golf);
        need(c.logitSoftcap() == 0, "logit_softcap", c.logitSoftcap() + "", "Llama and GPT-2 logits are not capped (use 0)");
        need(c.ropeDims() == 0, "rope_dims", c.ropeDims() + "", "Llama rotates whole heads (use 0)");
        List<BlockSpec> layers = c.layers();
        for (int i = 0; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof PlainBlock)) {
                throw new HfException("cannot export: blocks layer " + i + " is a \"" + layers.get(i).type()
                        + "\" block; Hugging Face Llama and GPT-2 have attention in every layer (supported: plain blocks only)");
            }
            if (!layers.get(i).equals(layers.getFirst())) {
                throw new HfException("cannot export: blocks layer " + i + " differs from layer 0 (" + layers.get(i)
                        + " vs " + layers.getFirst() + "); a Hugging Face config has one layer shape");
            }
        }
        PlainBlock pb = HfModels.plain(c);
        need(!pb.differential(), "differential", "true", "Hugging Face Llama and GPT-2 have no differential attention (use false)");
        need(!pb.nope(), "nope", "true", "Hugging Face Llama and GPT-2 layers all use the model's positions (use false)");
        need(pb.ropeBase() == 0 || pb.ropeBase() == c.ropeBase(), "rope_base", pb.ropeBase() + "",
                "a Hugging Face config has one rope_theta (set the top-level rope_base instead)");
        need(pb.attnChunkSize() == 0, "attn_chunk_size", pb.attnChunkSize() + "",
                "Hugging Face Llama and GPT-2 attend across the whole context (use 0)");
        if (pb.ffn() == FfnType.SWIGLU) {
            String why = "a Llama-style export (ffn swiglu) needs ";
            need(c.positionalEmbedding() == PositionalEmbedding.ROPE, "positional_embedding", c.positionalEmbedding().jsonName(), why + "rope");
            need(c.normType() == NormType.RMSNORM, "norm_type", c.normType().jsonName(), why + "rmsnorm");
            need(c.normWeight(), "norm_weight", "false", why + "true");
            need(!c.ropeInterleaved(), "rope_interleaved", "true", why + "false (Hugging Face rotates halves)");
            return HfModels.Layout.LLAMA;
        }
        if (pb.ffn() == FfnType.MLP) {
            String why = "a GPT-2-style export (ffn mlp) needs ";
            need(c.positionalEmbedding() == PositionalEmbedding.LEARNED_ABSOLUTE, "positional_embedding",
                    c.positionalEmbedding().jsonName(), why + "learned_absolute");
            need(c.normType() == NormType.LAYERNORM, "norm_type", c.normType().jsonName(), why + "layernorm");
            need(c.normWeight(), "norm_weight", "false", why + "true");
            need(c.bias(), "bias", "false", why + "true");
            need(pb.kvHeads() == pb.heads(), "kv_heads", pb.kvHeads() + "", why + "kv_heads = heads " + pb.heads());
            need(pb.headDim() * pb.heads() == c.modelDim(), "head_dim", pb.headDim() + "", why + "model_dim / heads");
            need(pb.activation() != Activation.RELU2, "activation", "relu2", why + "gelu_tanh, gelu, relu or silu");
            return HfModels.Layout.GPT2;
        }
        throw new HfException("cannot export: ffn is \"" + pb.ffn().jsonName()
                + "\" (supported: swiglu for Llama-style, mlp for GPT-2-style)");
    }

    private static void need(boolean ok, String field, String got, String why) {
        if (!ok) throw new HfException("cannot export: " + field + " is " + got + "; " + why);
    }
}
