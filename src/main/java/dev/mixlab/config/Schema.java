package dev.mixlab.config;

import static dev.mixlab.config.FieldDoc.derived;
import static dev.mixlab.config.FieldDoc.optional;
import static dev.mixlab.config.FieldDoc.required;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The config schema: every accepted key, its type, default and meaning, per section. */
final class Schema {
    private Schema() {}

    static final String POS_INT = "integer > 0";

    static final SectionDoc TOP = new SectionDoc("Top level",
            "The config file is one JSON object. `//` and `/* */` comments and trailing commas are allowed.",
            List.of(
                    derived("name", "string", "file name without `.json`", "Run name, used in logs and run folders."),
                    required("model_dim", POS_INT, "Width of the residual stream.").aka("d_model", "n_embd", "hidden_size", "dim"),
                    optional("vocab_size", POS_INT, 256, "Vocabulary size (256 = raw bytes).").aka("n_vocab", "vocab"),
                    required("seq_len", POS_INT, "Context length in tokens.").aka("block_size", "context_length", "max_seq_len", "seq_length"),
                    optional("mlp_mult", "number; round(model_dim * mlp_mult) > 0", 4.0,
                            "FFN hidden width multiplier, used by blocks that do not set their own."),
                    required("blocks", "non-empty array of blocks", "The layers, in order; see the block sections below.").aka("layers"),
                    optional("tie_embeddings", "boolean", true, "Share the token embedding with the output projection."),
                    optional("dropout", "number in [0, 1)", 0.0, "Dropout probability."),
                    optional("positional_embedding", oneOf(PositionalEmbedding.values()), PositionalEmbedding.LEARNED_ABSOLUTE,
                            "How token positions enter the model."),
                    optional("norm_type", oneOf(NormType.values()), NormType.LAYERNORM, "Normalisation layer.").aka("norm"),
                    optional("norm_eps", "number > 0", 1e-5, "Epsilon inside the norm."),
                    optional("norm_weight", "boolean", true, "Norms have a learned gain."),
                    optional("bias", "boolean", false, "Linear and norm layers have biases (the engine may reject true)."),
                    optional("attn_bias", "boolean", false,
                            "The attention's q, k and v projections have biases even when `bias` is false (as Qwen2).")
                            .aka("qkv_bias", "attention_bias"),
                    optional("init_std", "number >= 0", 0.02, "Standard deviation of the normal weight init."),
                    optional("rope_base", "number > 0", 10000.0, "RoPE frequency base (only used with `rope`).").aka("rope_theta"),
                    optional("rope_interleaved", "boolean", false, "RoPE rotates channel pairs (2j, 2j+1) (GPT-J, Meta's"
                            + " original Llama); false pairs j with j + head_dim/2 (GPT-NeoX, Hugging Face Llama)."),
                    derived("training", "object", "all defaults", "Training section, see `training`."),
                    derived("data", "object", "empty", "Data section, see `data`.")));

    static final SectionDoc TRAINING = new SectionDoc("`training`",
            "Optimisation, schedule, evaluation and logging.",
            List.of(
                    optional("steps", POS_INT, 1000, "Optimiser steps.").aka("max_steps", "iters", "max_iters", "train_steps"),
                    optional("lr", "number > 0", 1e-3, "Peak learning rate.").aka("learning_rate", "max_lr"),
                    optional("min_lr", "number, 0 <= min_lr <= lr", 0.0, "Learning rate at the end of the decay.")
                            .aka("lr_min", "min_learning_rate", "final_lr"),
                    optional("schedule", oneOf(Schedule.values()), Schedule.COSINE, "Learning-rate decay after warmup.")
                            .aka("lr_schedule", "scheduler"),
                    optional("warmup_steps", "integer, 0 <= warmup_steps < steps", 0, "Linear warmup steps.")
                            .aka("warmup", "warmup_iters"),
                    optional("batch_tokens", "integer > 0, a multiple of seq_len", 16384, "Tokens per optimiser step.")
                            .aka("tokens_per_step", "batch_size"),
                    optional("optimizer", oneOf(Optimizer.values()), Optimizer.ADAMW, "Optimiser.").aka("optimiser", "optim"),
                    optional("beta1", "number in [0, 1)", 0.9, "First-moment decay (momentum for `sgd`)."),
                    optional("beta2", "number in [0, 1)", 0.95, "Second-moment decay."),
                    optional("eps", "number > 0", 1e-8, "Optimiser epsilon.").aka("epsilon", "adam_eps"),
                    optional("weight_decay", "number >= 0", 0.0, "Decoupled weight decay.").aka("wd"),
                    optional("grad_clip", "number >= 0", 1.0, "Global gradient-norm clip; 0 turns it off.")
                            .aka("clip", "grad_norm_clip", "max_grad_norm"),
                    optional("seed", "integer", 1337L, "Random seed for init and data order."),
                    optional("val_every_steps", "integer >= 0", 0, "Validate every N steps; 0 = only at the end.")
                            .aka("eval_interval", "eval_every", "val_every"),
                    optional("val_tokens", "integer >= seq_len", 65536, "Tokens per validation pass.").aka("eval_tokens"),
                    optional("log_every_steps", POS_INT, 10, "Log every N steps.").aka("log_interval", "log_every"),
                    optional("time_budget_seconds", "integer >= 0", 0, "Stop after this many seconds; 0 = no limit.")
                            .aka("time_budget", "max_seconds")));

    static final SectionDoc DATA = new SectionDoc("`data`",
            "Where tokens come from. All fields are optional (they may be given on the command line).",
            List.of(
                    optional("train", "string or null", null, "Training data file or glob."),
                    optional("val", "string or null", null, "Validation data file or glob.").aka("valid", "validation"),
                    optional("tokenizer_model", "string or null", null, "SentencePiece `.model` the data was tokenized with:"
                            + " validation then covers the whole val split and reports `val_bpb`, and the run ends with the"
                            + " int8+zlib artifact (see docs/parameter-golf.md).").aka("tokenizer_path", "sp_model")));

    private static FieldDoc type(String name) {
        return required("type", "string", "`\"" + name + "\"`");
    }

    private static FieldDoc blockMlpMult() {
        return derived("mlp_mult", "number; round(model_dim * mlp_mult) > 0", "top-level `mlp_mult`",
                "FFN hidden width multiplier.");
    }

    private static FieldDoc repeat() {
        return optional("repeat", POS_INT, 1, "This spec stands for `repeat` identical consecutive layers.")
                .aka("n_layer", "n_layers", "layers", "count");
    }

    static final SectionDoc PLAIN = new SectionDoc("Block `plain`",
            "Pre-norm causal multi-head attention followed by its FFN tail.",
            List.of(
                    type(PlainBlock.TYPE),
                    required("heads", "integer > 0, divides model_dim unless `head_dim` is set", "Attention heads.")
                            .aka("n_head", "n_heads", "num_heads"),
                    derived("kv_heads", "integer > 0, divides heads", "`heads`",
                            "Key/value heads; fewer than heads gives grouped-query attention.")
                            .aka("n_kv_heads", "num_kv_heads"),
                    derived("head_dim", "integer > 0 (even with `rope`)", "model_dim / heads",
                            "Width of each attention head; q, k, v project to heads·head_dim and back.")
                            .aka("d_head", "head_size"),
                    optional("activation", oneOf(Activation.values()), Activation.GELU,
                            "FFN nonlinearity (used by the `mlp` tail).").aka("act"),
                    optional("ffn", oneOf(FfnType.values()), FfnType.MLP, "FFN tail after attention."),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc MLP = new SectionDoc("Block `mlp`",
            "Pre-norm residual feed-forward block (no attention).",
            List.of(
                    type(MlpBlock.TYPE),
                    optional("activation", oneOf(Activation.values()), Activation.GELU, "Nonlinearity.").aka("act"),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc SWIGLU = new SectionDoc("Block `swiglu`",
            "Pre-norm residual SwiGLU feed-forward block (no attention).",
            List.of(type(SwigluBlock.TYPE), blockMlpMult(), repeat()));

    /** Block type names, in doc order. */
    static final List<String> BLOCK_TYPES = List.of(PlainBlock.TYPE, MlpBlock.TYPE, SwigluBlock.TYPE);

    /** Every section, in doc order. */
    static final List<SectionDoc> ALL = List.of(TOP, TRAINING, DATA, PLAIN, MLP, SWIGLU);

    /** @return the section for a block type, or null if the type is unknown */
    static SectionDoc block(String type) {
        return switch (type) {
            case PlainBlock.TYPE -> PLAIN;
            case MlpBlock.TYPE -> MLP;
            case SwigluBlock.TYPE -> SWIGLU;
            default -> null;
        };
    }

    static String oneOf(JsonEnum[] values) {
        return "one of " + Arrays.stream(values).map(v -> "`" + v.jsonName() + "`").collect(Collectors.joining(", "));
    }
}
