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
                    optional("rope_dims", "integer >= 0, even, <= every head_dim; > 0 only with `rope`", 0,
                            "Partial RoPE: rotate only the first rope_dims channels of each head (frequencies"
                            + " rope_base^(-2j/rope_dims)); 0 rotates all head_dim channels.").aka("rotary_dims", "partial_rotary"),
                    optional("qk_norm", "boolean", false, "RMSNorm without weight (eps `norm_eps`) over head_dim of every"
                            + " head of q and k, before RoPE.").aka("qk_layernorm", "qk_rmsnorm"),
                    optional("q_gain", "boolean", false, "A learned per-head gain multiplies q after RoPE:"
                            + " `blocks.<i>.attn.q_gain` [heads], tagged `control`."),
                    optional("qk_gain_init", "number", 1.5, "Initial value of every `q_gain` element (used with `q_gain`)."),
                    optional("branch_scales", "boolean", false, "Learned per-channel scales on the residual branches:"
                            + " `blocks.<i>.attn_scale` and `blocks.<i>.mlp_scale` [model_dim], init 1, tagged `control`.")
                            .aka("attn_scale", "mlp_scale", "layer_scale"),
                    optional("resid_mix", "boolean", false, "Every layer first mixes its input x with the embedding"
                            + " output x0: x = m0·x + m1·x0, per channel; `blocks.<i>.resid_mix.0` (init 1) and"
                            + " `blocks.<i>.resid_mix.1` (init 0) [model_dim], tagged `control` (rows of parameter"
                            + " golf's resid_mix [2, model_dim]).").aka("residual_mix"),
                    optional("unet_skips", "boolean", false, "U-Net skips over the layers: the first floor(L/2) layers"
                            + " push their outputs; each later layer k first pops the newest and adds"
                            + " `skip_weights.<k>` [model_dim] (init 1, tagged `control`) times it. Needs >= 2 layers.")
                            .aka("skip_connections", "unet"),
                    optional("logit_softcap", "number >= 0", 0.0, "Logits become c·tanh(logits/c) with"
                            + " c = logit_softcap; 0 turns it off.").aka("softcap", "final_logit_softcapping"),
                    derived("tied_embed_init_std", "number >= 0", "`init_std`", "Std of the token embedding's normal"
                            + " init when it is tied to the output (`tie_embeddings`); ignored when untied."),
                    optional("zero_init_proj", "boolean", false, "The output projections of attention and FFN"
                            + " (`*.attn.proj`, `*.mlp.proj`) start at zero instead of the scaled normal init."),
                    optional("embed_norm", "boolean", false, "Normalise the token (+ position) embedding with the"
                            + " model's norm (`norm_type`, a weight `embed_norm.weight` only with `norm_weight`)."),
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
                            .aka("time_budget", "max_seconds"),
                    optional("warmdown_steps", "integer >= 0", 0, "`warmdown` schedule: the last N steps decay linearly"
                            + " to `min_lr` (the seed's `warmdown_iters`; lr·(steps−step)/N); 0 = constant.")
                            .aka("warmdown_iters", "warmdown", "cooldown_steps"),
                    optional("max_wallclock_seconds", "number >= 0", 0.0, "Stop once training time (validation excluded)"
                            + " reaches this; with `warmdown`, the decay is timed by the clock as the seed's `lr_mul`:"
                            + " it starts when the time left falls under `warmdown_steps` × the mean step time. 0 = off.")
                            .aka("max_wallclock", "wallclock_seconds"),
                    derived("grad_accum_steps", "integer > 0; batch_tokens a multiple of grad_accum_steps·seq_len",
                            "1, or batch_tokens / micro_batch_tokens", "Micro-batches per optimiser step: the step program"
                            + " runs that many forward/backward passes, sums their gradients, then clips and updates once.")
                            .aka("gradient_accumulation_steps", "accum_steps", "grad_accum"),
                    derived("micro_batch_tokens", "integer > 0, divides batch_tokens, a multiple of seq_len",
                            "batch_tokens / grad_accum_steps", "Tokens per micro-batch (give this or `grad_accum_steps`).")
                            .aka("microbatch_tokens", "micro_batch_size"),
                    optional("sampler", oneOf(DataSampler.values()), DataSampler.RANDOM, "Training batches: windows at"
                            + " random positions, or `sequential` (the seed's TokenStream: consecutive chunks of the"
                            + " sorted shards, wrapping around).").aka("data_sampler", "loader"),
                    optional("muon_momentum", "number in [0, 1)", 0.95, "Muon momentum (Nesterov) after its warmup."),
                    optional("muon_momentum_warmup_start", "number in [0, 1)", 0.85, "Muon momentum at step 0."),
                    optional("muon_momentum_warmup_steps", "integer >= 0", 500,
                            "Steps of the linear Muon momentum warmup; 0 = none."),
                    optional("muon_ns_steps", POS_INT, 5, "Newton–Schulz iterations of Muon (coefficients 3.4445,"
                            + " −4.7750, 2.0315).").aka("muon_backend_steps"),
                    derived("param_groups", "array of groups (see `training.param_groups[]`)",
                            "`[]`; with `muon`: the parameter-golf split", "Optimizer groups, first match wins; every"
                            + " parameter must match one. Empty: `optimizer` for every parameter.")
                            .aka("groups", "optimizer_groups")));

    static final SectionDoc PARAM_GROUP = new SectionDoc("`training.param_groups[]`",
            "Each group takes the parameters that match all of `match`, `rank` and `tag`, in order (first match wins)."
                    + " The schedule's multiplier (lr at the step / `lr`) scales every group's `lr`. With `\"optimizer\":"
                    + " \"muon\"` and no groups, the parameter-golf split is used: `tok_emb.weight`/`pos_emb.weight`"
                    + " Adam lr 0.05; `lm_head.weight` Adam 0.008; tag `control` or names matching `*attn_scale*`,"
                    + " `*mlp_scale*`, `*resid_mix*`, `*q_gain*`, `*skip_weight*` Adam 0.04; `blocks.*` of rank 2 Muon"
                    + " 0.04; the rest Adam 0.04 (no weight decay). Muon: Nesterov momentum, Newton–Schulz on the"
                    + " Frobenius-normalised update (transposed when rows > cols), step scaled by √max(1, rows/cols).",
            List.of(
                    derived("name", "string", "`group<i>`", "Label in logs."),
                    optional("match", "glob or `/regex/`, or an array of them", "*", "Parameter names: a glob (`*`, `?`)"
                            + " over the whole name, or `/regex/` found anywhere in it; an array matches any.")
                            .aka("pattern", "names", "params"),
                    optional("rank", "string such as `\">=2\"`, `\"2\"`, `\"<2\"`, or null", null,
                            "Tensor rank condition; null = any.").aka("ndim"),
                    optional("tag", "string or null", null, "A tag the parameter must carry (`matrix`, `embedding`,"
                            + " `norm`, `bias`, `control`); null = any.").aka("tags"),
                    derived("optimizer", oneOf(Optimizer.values()), "training `optimizer`",
                            "Update rule (`muon` only for rank-2 tensors)."),
                    derived("lr", "number > 0", "training `lr`", "Peak learning rate of the group."),
                    derived("beta1", "number in [0, 1)", "training `beta1`", "First-moment decay (momentum for `sgd`)."),
                    derived("beta2", "number in [0, 1)", "training `beta2`", "Second-moment decay."),
                    derived("eps", "number > 0", "training `eps`", "Adam epsilon."),
                    derived("weight_decay", "number >= 0", "training `weight_decay`",
                            "Weight decay (`adamw`, `muon`: decoupled; `sgd`: coupled; `adam`: none).")));

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
                    optional("window_size", "integer >= 0", 0, "Sliding-window attention: query i attends keys j with"
                            + " i - window_size < j <= i (itself and the window_size - 1 before it); 0 attends the whole"
                            + " causal prefix.").aka("sliding_window", "attention_window"),
                    optional("attn_softcap", "number >= 0", 0.0, "Attention logit softcap: each scaled score s becomes"
                            + " c·tanh(s/c) with c = attn_softcap before the causal softmax; 0 turns it off.")
                            .aka("attn_logit_softcapping", "attention_softcap"),
                    optional("alibi", "boolean", false, "ALiBi: the (scaled, and softcapped if attn_softcap is set)"
                            + " score of query i and key j gets the bias -m_h·(i - j), added after the softcap, with the"
                            + " standard head slopes m_h = 2^(-8(h+1)/heads) (heads not a power of two: the slopes of the"
                            + " nearest lower power of two n, then every other slope of 2n). Usually combined with"
                            + " `\"positional_embedding\": \"none\"`."),
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

    private static FieldDoc ffnTail() {
        return optional("ffn", oneOf(FfnType.values()), FfnType.MLP, "FFN tail after the mixer (as `plain`).");
    }

    private static FieldDoc ffnActivation() {
        return optional("activation", oneOf(Activation.values()), Activation.GELU, "FFN nonlinearity (used by the `mlp` tail).").aka("act");
    }

    private static FieldDoc convSize() {
        return optional("conv_size", POS_INT, 4, "Kernel size of the short causal depthwise convolution (+ SiLU) before the scan.")
                .aka("conv_kernel", "d_conv", "conv_kernel_size");
    }

    static final SectionDoc GATED_DELTANET = new SectionDoc("Block `gated_deltanet`",
            "Pre-norm Gated DeltaNet mixer (Yang et al., gated delta rule, as in flash-linear-attention and Qwen3-Next),"
                    + " then the FFN tail of `plain`: a drop-in replacement for attention with a fixed-size state per head."
                    + " q, k, v = SiLU(short conv(projections)); q, k L2-normalised per head, q scaled by head_dim^-1/2;"
                    + " β = sigmoid(b_proj x); log decay g = −exp(A_log)·softplus(a_proj x + dt_bias); per head"
                    + " S_t = S_{t−1}·α_t(I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ with α_t = e^{g_t}, o_t = S_t q_t; output"
                    + " RMSNorm (weight per value channel, eps = `norm_eps`) times SiLU(g_proj x), then o_proj."
                    + " Training runs the chunked form; decoding carries the conv and delta states in the cache.",
            List.of(
                    type(GatedDeltaNetBlock.TYPE),
                    required("heads", "integer > 0, divides model_dim unless `head_dim` is set", "Recurrent heads.")
                            .aka("n_head", "n_heads", "num_heads"),
                    derived("head_dim", POS_INT, "model_dim / heads", "Key and query width per head (d_k); the state is"
                            + " head_dim × head_dim·expand_v per head.").aka("d_head", "head_k_dim"),
                    convSize(),
                    optional("expand_v", POS_INT, 1, "Value width per head is head_dim·expand_v."),
                    ffnActivation(),
                    ffnTail(),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc MAMBA2 = new SectionDoc("Block `mamba2`",
            "Pre-norm Mamba-2 mixer (Dao & Gu, SSD), then the FFN tail of `plain`. Projections give z, x, B, C, dt"
                    + " (the official fused in_proj, kept as five matrices: same parameters); SiLU(short conv + bias)"
                    + " on x, B and C; dt = softplus(dt + dt_bias), A = −exp(A_log) per head; per head"
                    + " h_t = e^{dt_t·A} h_{t−1} + dt_t x_t B_tᵀ, y_t = h_t C_t + D·x_t; then RMSNorm(y·SiLU(z)) per group"
                    + " (weight, eps = `norm_eps`) and out_proj. Training runs the chunked form; decoding carries the conv"
                    + " and SSM states in the cache.",
            List.of(
                    type(Mamba2Block.TYPE),
                    optional("d_state", POS_INT, 64, "State size N per head.").aka("state_size", "ssm_state_size"),
                    optional("head_dim", POS_INT, 64, "Head width P; heads = expand·model_dim / head_dim.").aka("headdim"),
                    optional("expand", POS_INT, 2, "Inner width is expand·model_dim."),
                    convSize(),
                    optional("ngroups", "integer > 0, divides the heads", 1, "Groups of heads sharing B and C.")
                            .aka("n_groups"),
                    ffnActivation(),
                    ffnTail(),
                    blockMlpMult(),
                    repeat()));

    /** Block type names, in doc order. */
    static final List<String> BLOCK_TYPES = List.of(PlainBlock.TYPE, MlpBlock.TYPE, SwigluBlock.TYPE, GatedDeltaNetBlock.TYPE,
            Mamba2Block.TYPE);

    /** Every section, in doc order. */
    static final List<SectionDoc> ALL = List.of(TOP, TRAINING, PARAM_GROUP, DATA, PLAIN, MLP, SWIGLU, GATED_DELTANET, MAMBA2);

    /** @return the section for a block type, or null if the type is unknown */
    static SectionDoc block(String type) {
        return switch (type) {
            case PlainBlock.TYPE -> PLAIN;
            case MlpBlock.TYPE -> MLP;
            case SwigluBlock.TYPE -> SWIGLU;
            case GatedDeltaNetBlock.TYPE -> GATED_DELTANET;
            case Mamba2Block.TYPE -> MAMBA2;
            default -> null;
        };
    }

    static String oneOf(JsonEnum[] values) {
        return "one of " + Arrays.stream(values).map(v -> "`" + v.jsonName() + "`").collect(Collectors.joining(", "));
    }
}
