package dev.mixlab.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.io.Tensor;
import dev.mixlab.ir.Value;
import dev.mixlab.train.Programs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads a local Hugging Face model directory ({@code config.json}, {@code *.safetensors}, possibly
 * sharded with {@code model.safetensors.index.json}, and {@code tokenizer.json}) of the Llama family
 * (Llama, Mistral, Qwen2) or GPT-2 into a mixlab config and weights in mixlab's parameter names.
 * Anything the engine would compute differently is refused with one line naming the field.
 */
public final class HfImport {
    private HfImport() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Architectures this importer maps, as {@code config.json} names them. */
    public static final List<String> SUPPORTED =
            List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "GPT2LMHeadModel");

    /**
     * @param architecture the HF architecture read
     * @param configJson   the mixlab config as written (model fields only; training takes defaults)
     * @param config       the same, parsed and validated
     * @param weights      every mixlab parameter, float32, in mixlab's names and shapes
     */
    public record Imported(String architecture, ObjectNode configJson, Config config, Map<String, Tensor> weights) {}

    /** What {@link #run} wrote. */
    public record Written(Path config, Path weights, Path tokenizer, Imported model) {}

    /**
     * Imports {@code dir} and writes {@code out} (the config), {@code <out-stem>.safetensors} and,
     * when the model has one, {@code tokenizer.json} beside them.
     *
     * @param seqLen context length to write; null takes the model's maximum positions
     */
    public static Written run(Path dir, Path out, Integer seqLen) {
        String stem = out.getFileName().toString().replaceFirst("\\.json$", "");
        Imported m = read(dir, seqLen, stem);
        Path parent = out.toAbsolutePath().getParent();
        Path weights = parent.resolve(stem + ".safetensors");
        Path tok = null;
        try {
            Files.createDirectories(parent);
            Files.writeString(out, JSON.writeValueAsString(m.configJson()) + "\n");
            Safetensors.write(weights, m.weights(), Map.of("format", "mixlab", "source", "huggingface:" + m.architecture()));
            Path src = dir.resolve("tokenizer.json");
            if (Files.isRegularFile(src)) {
                tok = parent.resolve("tokenizer.json");
                if (!Files.exists(tok) || !Files.isSameFile(src, tok)) Files.copy(src, tok, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the import: " + e.getMessage(), e);
        }
        return new Written(out, weights, tok, m);
    }

    /** Reads and maps {@code dir} without writing anything. */
    public static Imported read(Path dir, Integer seqLen, String name) {
        Path cfgFile = dir.resolve("config.json");
        JsonNode hf = readJson(cfgFile);
        HfConfig h = new HfConfig(cfgFile.toString(), hf);
        String arch = h.architecture();
        ObjectNode cfg = switch (arch) {
            case "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM" -> llamaConfig(h, arch, seqLen);
            case "GPT2LMHeadModel" -> gpt2Config(h, seqLen);
            default -> throw new HfException(cfgFile + ": architectures \"" + arch + "\" is not supported (supported: "
                    + String.join(", ", SUPPORTED) + ")");
        };
        cfg.put("name", name);
        // name first, for the reader
        ObjectNode ordered = JSON.createObjectNode();
        ordered.put("name", name);
        cfg.properties().forEach(e -> { if (!e.getKey().equals("name")) ordered.set(e.getKey(), e.getValue()); });
        Config c = ConfigLoader.parse(ordered.toString(), name + ".json");

        Map<String, Tensor> hfWeights = readWeights(dir);
        HfModels.Layout layout = arch.equals("GPT2LMHeadModel") ? HfModels.Layout.GPT2 : HfModels.Layout.LLAMA;
        String prefix = hfWeights.containsKey("transformer.wte.weight") ? "transformer." : "";
        Map<String, Tensor> weights = map(HfModels.rules(layout, c, prefix), hfWeights, c, dir.toString());
        return new Imported(arch, ordered, c, weights);
    }

    /** Applies the rules HF → mixlab, checking every shape and that every HF tensor is used. */
    static Map<String, Tensor> map(List<Rule> rules, Map<String, Tensor> hf, Config c, String where) {
        Map<String, long[]> want = shapes(c);
        Map<String, Tensor> out = new TreeMap<>();
        Set<String> used = new LinkedHashSet<>();
        for (Rule r : rules) {
            Tensor t = hf.get(r.hf());
            if (t == null) {
                throw new HfException(where + ": the weights have no tensor \"" + r.hf() + "\" (needed for "
                        + String.join(", ", r.mix()) + "); is the checkpoint complete?");
            }
            used.add(r.hf());
            Mats m = Mats.of(t);
            if (r.transpose()) m = m.transpose();
            int at = 0;
            for (String name : r.mix()) {
                long[] s = want.get(name);
                if (s == null) throw new IllegalStateException("rule names a parameter the model lacks: " + name);
                int rows = (int) s[0];
                boolean fits = r.mix().size() > 1 || m.rows() == rows || (r.sliceRows() && m.rows() > rows);
                Mats part = fits && m.rowSize() * (long) rows == Tensor.numel(s) ? m.rows(at, rows) : null;
                if (part == null || !java.util.Arrays.equals(part.shape(), s)) {
                    throw new HfException(where + ": tensor \"" + r.hf() + "\" has shape " + Mats.show(t.shape())
                            + ", which does not give " + name + " " + Mats.show(s) + " as config.json describes");
                }
                out.put(name, part.tensor());
                at += rows;
            }
            if (r.mix().size() > 1 && at != m.rows()) {
                throw new HfException(where + ": tensor \"" + r.hf() + "\" has shape " + Mats.show(t.shape())
                        + "; expected " + at + " fused outputs");
            }
        }
        for (String n : want.keySet()) {
            if (!out.containsKey(n)) throw new IllegalStateException("no rule fills mixlab parameter " + n);
        }
        for (String n : hf.keySet()) {
            if (used.contains(n) || HfModels.isBuffer(n)) continue;
            if (n.equals("lm_head.weight") && c.tieEmbeddings()) continue; // tied: the same values as the embedding
            throw new HfException(where + ": tensor \"" + n + "\" has no place in the mapped model (supported "
                    + "tensors: those of " + String.join(", ", SUPPORTED) + " without extra features)");
        }
        return out;
    }

    /** mixlab parameter name → shape, from the forward program the config builds. */
    static Map<String, long[]> shapes(Config c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Value v : Programs.forward(c, 1).params()) {
            m.put(v.name(), java.util.Arrays.stream(v.shape().dims()).asLongStream().toArray());
        }
        return m;
    }

    private static ObjectNode llamaConfig(HfConfig h, String arch, Integer seqLenOpt) {
        int d = h.integer("hidden_size");
        int heads = h.integer("num_attention_heads");
        int kv = h.integerOr("num_key_value_heads", heads);
        int headDim = h.integerOr("head_dim", d / Math.max(heads, 1));
        int inter = h.integer("intermediate_size");
        int maxPos = h.integer("max_position_embeddings");
        int seqLen = seqLen(h, seqLenOpt, maxPos, "max_position_embeddings");
        h.require("hidden_act", "silu", "silu (SwiGLU)");
        h.requireNull("rope_scaling", "null (no RoPE scaling)");
        double partial = h.numberOr("partial_rotary_factor", 1.0);
        if (partial != 1.0) throw h.refuse("partial_rotary_factor", partial + "", "1.0 (RoPE on the whole head)");
        boolean attnBias = h.boolOr("attention_bias", false), mlpBias = h.boolOr("mlp_bias", false);
        boolean bias = false, qkvBias = false;
        if (arch.equals("Qwen2ForCausalLM")) {
            qkvBias = true;
            if (h.boolOr("use_sliding_window", false)) checkWindow(h, seqLen);
        } else {
            if (attnBias != mlpBias) {
                throw h.refuse(attnBias ? "attention_bias" : "mlp_bias", "true without the other",
                        "attention_bias and mlp_bias both false, or both true");
            }
            bias = attnBias;
            if (arch.equals("MistralForCausalLM")) checkWindow(h, seqLen);
        }
        ObjectNode c = JSON.createObjectNode();
        c.put("model_dim", d);
        c.put("vocab_size", h.integer("vocab_size"));
        c.put("seq_len", seqLen);
        c.put("mlp_mult", inter / (double) d);
        ObjectNode b = c.putArray("blocks").addObject();
        b.put("type", "plain");
        b.put("heads", heads);
        b.put("kv_heads", kv);
        b.put("head_dim", headDim);
        b.put("ffn", "swiglu");
        b.put("repeat", h.integer("num_hidden_layers"));
        c.put("tie_embeddings", h.boolOr("tie_word_embeddings", false));
        c.put("positional_embedding", "rope");
        c.put("norm_type", "rmsnorm");
        c.put("norm_eps", h.numberOr("rms_norm_eps", 1e-6));
        c.put("bias", bias);
        c.put("attn_bias", qkvBias);
        c.put("init_std", h.numberOr("initializer_range", 0.02));
        c.put("rope_base", h.numberOr("rope_theta", 10000.0));
        c.put("rope_interleaved", false);
        checkWidth(h, inter, d, c.get("mlp_mult").doubleValue(), "intermediate_size");
        return c;
    }

    private static ObjectNode gpt2Config(HfConfig h, Integer seqLenOpt) {
        int d = h.integer("n_embd");
        int maxPos = h.integer("n_positions");
        int seqLen = seqLen(h, seqLenOpt, maxPos, "n_positions");
        String act = h.stringOr("activation_function", "gelu_new");
        String mixAct = switch (act) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> "gelu_tanh";
            case "gelu" -> "gelu";
            case "relu" -> "relu";
            case "silu", "swish" -> "silu";
            default -> throw h.refuse("activation_function", "\"" + act + "\"", "gelu_new, gelu_pytorch_tanh, gelu, relu, silu");
        };
        if (!h.boolOr("scale_attn_weights", true)) throw h.refuse("scale_attn_weights", "false", "true");
        if (h.boolOr("scale_attn_by_inverse_layer_idx", false)) {
            throw h.refuse("scale_attn_by_inverse_layer_idx", "true", "false");
        }
        if (h.boolOr("add_cross_attention", false)) throw h.refuse("add_cross_attention", "true", "false");
        Integer inner = h.integerOrNull("n_inner");
        int hidden = inner == null ? 4 * d : inner;
        ObjectNode c = JSON.createObjectNode();
        c.put("model_dim", d);
        c.put("vocab_size", h.integer("vocab_size"));
        c.put("seq_len", seqLen);
        c.put("mlp_mult", hidden / (double) d);
        ObjectNode b = c.putArray("blocks").addObject();
        b.put("type", "plain");
        b.put("heads", h.integer("n_head"));
        b.put("activation", mixAct);
        b.put("ffn", "mlp");
        b.put("repeat", h.integer("n_layer"));
        c.put("tie_embeddings", h.boolOr("tie_word_embeddings", true));
        c.put("positional_embedding", "learned_absolute");
        c.put("norm_type", "layernorm");
        c.put("norm_eps", h.numberOr("layer_norm_epsilon", 1e-5));
        c.put("bias", true);
        c.put("init_std", h.numberOr("initializer_range", 0.02));
        checkWidth(h, hidden, d, c.get("mlp_mult").doubleValue(), "n_inner");
        return c;
    }

    private static int seqLen(HfConfig h, Integer opt, int maxPos, String field) {
        if (opt == null) return maxPos;
        if (opt <= 0 || opt > maxPos) {
            throw new HfException(h.file() + ": --seq-len " + opt + " must be between 1 and " + field + " " + maxPos);
        }
        return opt;
    }

    private static void checkWindow(HfConfig h, int seqLen) {
        Integer w = h.integerOrNull("sliding_window");
        if (w != null && w < seqLen) {
            throw new HfException(h.file() + ": sliding_window " + w + " is smaller than the context written (seq_len "
                    + seqLen + "); mixlab has full causal attention only (supported: sliding_window null or >= seq_len;"
                    + " pass --seq-len " + w + ")");
        }
    }

    private static void checkWidth(HfConfig h, int hidden, int d, double mult, String field) {
        if (Math.round(d * mult) != hidden) {
            throw new IllegalStateException(field + " " + hidden + " is not recovered from mlp_mult " + mult);
        }
    }

    /** Every tensor of the checkpoint as float32, from the index's shards or every {@code *.safetensors} of the folder. */
    static Map<String, Tensor> readWeights(Path dir) {
        List<Path> files = new ArrayList<>();
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            JsonNode map = readJson(index).path("weight_map");
            if (!map.isObject()) throw new HfException(index + ": no \"weight_map\" object");
            new LinkedHashSet<String>(map.valueStream().map(JsonNode::asText).toList())
                    .forEach(f -> files.add(dir.resolve(f)));
        } else {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new HfException(dir + ": cannot list the folder (" + e.getMessage() + ")");
            }
        }
        if (files.isEmpty()) {
            boolean bin = Files.exists(dir.resolve("pytorch_model.bin"));
            throw new HfException(dir + ": no *.safetensors weights" + (bin
                    ? " (pytorch_model.bin is not supported; save with save_pretrained(..., safe_serialization=True))" : ""));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Path f : files) {
            try (SafetensorsFile sf = Safetensors.read(f)) {
                for (String n : sf.names()) {
                    if (HfModels.isBuffer(n)) continue;
                    Tensor t = sf.tensor(n);
                    if (!List.of("F32", "F64", "BF16", "F16").contains(t.dtype())) {
                        throw new HfException(f + ": tensor \"" + n + "\" has dtype " + t.dtype() + " (supported: F32, F64, BF16, F16)");
                    }
                    if (out.put(n, Tensor.ofFloats(t.shape(), t.floats())) != null) {
                        throw new HfException(f + ": tensor \"" + n + "\" appears in two shards");
                    }
                }
            }
        }
        return out;
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(Files.readString(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HfException(file + ": file not found; a Hugging Face model folder has config.json and *.safetensors");
        } catch (IOException e) {
            throw new HfException(file + ": cannot read JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }
}
