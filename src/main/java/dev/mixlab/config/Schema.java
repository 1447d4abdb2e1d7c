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
                    optional("qk_norm_weight", "boolean; needs `qk_norm`", false, "The q/k norms have learned gains"
                            + " `blocks.<i>.attn.q_norm.weight` and `k_norm.weight` [head_dim] (Qwen3, OLMo 2, Gemma 3),"
                            + " initialised to 1."),
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
                    optional("precision", oneOf(Precision.values()), Precision.MIXED, "Numerics on a GPU (`--device"
                            + " cuda`): `mixed` runs the matrix products on bf16 tensor cores over bf16 copies of their"
                            + " operands and attention on bf16 tensor cores (float32 accumulation, softmax and sums), and keeps"
                            + " float32 master weights, optimizer state, the residual stream and reductions, as PyTorch's bf16"
                            + " autocast does; `fp32` keeps float32 throughout. The CPU computes in float32 either way.")
                            .aka("dtype", "mixed_precision", "amp"),
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
                    optional("attn_chunk_size", "integer >= 0", 0, "Chunked attention (Llama 4): the sequence is cut into"
                            + " chunks of N = attn_chunk_size tokens; query i attends only keys j of its own chunk,"
                            + " floor(i/N)·N <= j <= i (and the window, if also set), and RoPE positions restart at 0 in"
                            + " every chunk (learned absolute positions do not). 0 turns it off.")
                            .aka("attention_chunk_size", "chunk_size"),
                    optional("layer_pattern", "string of `L` and `G`", "", "Global/local layers over `repeat` (Gemma"
                            + " 2/3, Llama 4 style): layer k of this entry is local when the pattern's character k mod"
                            + " its length is `L` (keeps window_size / attn_chunk_size) and global when it is `G` (full"
                            + " causal attention; everything else equal). E.g. `\"LLLLLG\"` with repeat 12: layers 5"
                            + " and 11 are global. Empty: every layer as configured. Needs window_size or attn_chunk_size.")
                            .aka("local_global", "attention_pattern", "layer_types"),
                    optional("rope_base", "number >= 0; only with `rope`", 0.0, "RoPE frequency base of this entry's layers;"
                            + " 0 uses the top-level `rope_base`.").aka("rope_theta", "rope_local_base_freq"),
                    optional("nope", "boolean; only with `rope`", false, "This entry's layers use no positional encoding"
                            + " (NoPE) while the rest of the model uses RoPE."),
                    optional("global_rope_base", "number >= 0; needs `layer_pattern`", 0.0, "RoPE base of the pattern's"
                            + " global (`G`) layers, e.g. 1000000 as Gemma 3; 0 = as the local layers.")
                            .aka("global_rope_theta"),
                    optional("global_nope", "boolean; needs `layer_pattern`", false, "The pattern's global (`G`) layers use"
                            + " no positional encoding, as Llama 4's iRoPE (chunked RoPE layers, NoPE global layers)."),
                    optional("differential", "boolean", false, "Differential attention (Differential Transformer, Ye et al."
                            + " 2024; `heads` counts differential heads, the paper's halved number): each head has two query/key maps of width head_dim/2 and a value of width head_dim;"
                            + " its output is (softmax(q1·k1ᵀ/√d) − λ·softmax(q2·k2ᵀ/√d))·v, RMS-normalised per head (gain"
                            + " `attn.subln.weight`) and scaled by 1 − λ_init, with λ = exp(λq1·λk1) − exp(λq2·λk2) + λ_init,"
                            + " λ_init = 0.8 − 0.6·exp(−0.3·l) for 0-based layer l; parameters `attn.{q1,q2,k1,k2,v,proj}`,"
                            + " `attn.lambda_{q1,k1,q2,k2}` [head_dim/2]. Needs kv_heads = heads and no alibi; costs two"
                            + " attention passes over 2·heads half-width heads.").aka("diff_attn", "diff_attention"),
                    optional("output_gate", "boolean; not with `differential`", false, "Gated attention (Qwen3-Next;"
                            + " Qiu et al. 2025): the attention output, before the output projection, is multiplied"
                            + " elementwise by sigmoid(x·W_gᵀ) of the block's normed input, one gate per head channel;"
                            + " parameter `attn.gate.weight` [heads·head_dim, model_dim].").aka("attn_output_gate", "gated_attention"),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc MLA = new SectionDoc("Block `mla`",
            "Pre-norm multi-head latent attention (DeepSeek-V2/V3) followed by its FFN tail. Keys and values are"
                    + " up-projected from a per-token latent c_kv = RMSNorm(W_dkv·x) of width kv_lora_rank; a decoupled"
                    + " RoPE key (qk_rope_head_dim channels, rotated with the top-level rope_base and rope_interleaved"
                    + " whatever positional_embedding is) is projected from x once per token and shared by all heads."
                    + " Each head's query is [RoPE part, nope part] (projected from x, or from c_q = RMSNorm(W_dq·x) when"
                    + " q_lora_rank > 0); scores use the scale 1/sqrt(qk_nope_head_dim + qk_rope_head_dim). The"
                    + " down/up projections have no bias (the output projection has one with `bias`); `qk_norm`,"
                    + " `q_gain`, `rope_dims` and `attn_bias` do not apply. Generation caches only c_kv and the RoPE key"
                    + " per token (kv_lora_rank + qk_rope_head_dim floats per layer).",
            List.of(
                    type(MlaBlock.TYPE),
                    required("heads", POS_INT, "Attention heads.").aka("n_head", "n_heads", "num_heads"),
                    derived("kv_lora_rank", POS_INT, "4 · qk_nope_head_dim",
                            "Width of the key/value latent c_kv, the per-token cache (DeepSeek-V2: 512 = 4·128)."),
                    optional("q_lora_rank", "integer >= 0", 0,
                            "Width of the query latent c_q; 0 projects queries straight from the block input."),
                    derived("qk_nope_head_dim", POS_INT, "model_dim / heads",
                            "Per-head query/key channels without position information, keys up-projected from c_kv."),
                    derived("qk_rope_head_dim", "integer >= 0, even", "qk_nope_head_dim / 2 rounded down to even",
                            "Per-head query channels and shared key channels that RoPE rotates (the decoupled RoPE);"
                                    + " 0 leaves MLA without position information."),
                    derived("v_head_dim", POS_INT, "qk_nope_head_dim", "Per-head value width."),
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

    /** The attention fields a {@code moe} block shares with {@code plain}. */
    private static List<FieldDoc> attentionFields() {
        return PLAIN.fields().stream().filter(f -> !List.of("type", "ffn", "mlp_mult", "repeat").contains(f.name()))
                .map(f -> f.name().equals("activation")
                        ? optional("activation", oneOf(Activation.values()), Activation.GELU,
                                "Expert nonlinearity (used by `mlp` experts).").aka("act")
                        : f)
                .toList();
    }

    /** The fields of each mixer a {@code moe} block takes besides heads and activation; another mixer's are refused. */
    static final java.util.Map<MixerType, List<String>> MOE_MIXER_FIELDS = java.util.Map.of(
            MixerType.PLAIN, attentionFields().stream().map(FieldDoc::name)
                    .filter(n -> !List.of("heads", "activation").contains(n)).toList(),
            MixerType.MLA, List.of("kv_lora_rank", "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"),
            MixerType.GATED_DELTANET, List.of("head_dim", "conv_size", "expand_v", "value_heads"),
            MixerType.MAMBA2, List.of("head_dim", "conv_size", "d_state", "expand", "ngroups"),
            MixerType.MAMBA, List.of("conv_size", "d_state", "expand", "dt_rank", "dt_norm"));

    private static FieldDoc valueHeads() {
        return derived("value_heads", "integer > 0, a multiple of heads", "heads", "Value heads (grouped value heads,"
                + " Qwen3-Next's linear_num_value_heads, flash-linear-attention's num_v_heads): each query/key head"
                + " serves value_heads/heads consecutive value heads, each with its own state (head_dim × head_dim·expand_v),"
                + " β and decay.").aka("num_v_heads", "linear_num_value_heads");
    }

    /** {@code f} with the mixers it belongs to in its type column. */
    private static FieldDoc forMixers(FieldDoc f, String mixers) {
        return new FieldDoc(f.name(), f.type() + "; mixer " + mixers, f.required(), f.defaultValue(), f.defaultText(),
                f.meaning(), f.aliases());
    }

    /** The mixer fields of a {@code moe} block, in doc order: plain's, mla's, then the recurrent mixers'. */
    private static List<FieldDoc> moeMixerFields() {
        List<FieldDoc> out = new java.util.ArrayList<>();
        for (FieldDoc f : attentionFields()) {
            out.add(switch (f.name()) {
                case "heads" -> derived("heads", "integer > 0; not with `mamba2`, `mamba`", "required",
                        "Attention (or recurrent) heads; a `mamba2` mixer's heads are expand·model_dim / head_dim.")
                        .aka(f.aliases().toArray(String[]::new));
                case "head_dim" -> derived("head_dim", "integer > 0; mixer `plain`, `gated_deltanet`, `mamba2`",
                        "model_dim / heads (`mamba2`: 64)", "Width of each head: as the `plain`, `gated_deltanet` and"
                                + " `mamba2` blocks' head_dim.").aka(f.aliases().toArray(String[]::new));
                case "activation" -> f;
                default -> forMixers(f, "`plain`");
            });
        }
        for (FieldDoc f : MLA.fields()) {
            if (MOE_MIXER_FIELDS.get(MixerType.MLA).contains(f.name())) out.add(forMixers(f, "`mla`"));
        }
        out.add(forMixers(convSize(), "`gated_deltanet`, `mamba2`, `mamba`"));
        out.add(optional("expand_v", POS_INT + "; mixer `gated_deltanet`", 1, "Value width per head is head_dim·expand_v."));
        out.add(forMixers(valueHeads(), "`gated_deltanet`"));
        out.add(derived("d_state", POS_INT + "; mixer `mamba2`, `mamba`", "64 (`mamba`: 16)", "State size N per head"
                + " (`mamba`: per inner channel).").aka("state_size", "ssm_state_size"));
        out.add(optional("expand", POS_INT + "; mixer `mamba2`, `mamba`", 2, "Inner width is expand·model_dim."));
        out.add(optional("ngroups", "integer > 0, divides the heads; mixer `mamba2`", 1, "Groups of heads sharing B and C.")
                .aka("n_groups"));
        out.add(derived("dt_rank", POS_INT + "; mixer `mamba`", "ceil(model_dim / 16)", "Bottleneck width of the step-size projection."));
        out.add(optional("dt_norm", "boolean; mixer `mamba`", false, "RMSNorm with weights on the dt, B and C projections (Jamba)."));
        return out;
    }

    static final SectionDoc MOE = new SectionDoc("Block `moe`",
            "A pre-norm sequence mixer (by default the `plain` attention; with `\"mixer\"` the mixer of the `mla`,"
                    + " `gated_deltanet`, `mamba2` or `mamba` block, with that block's fields, as DeepSeek-V3, Qwen3-Next or Jamba)"
                    + " followed by a mixture-of-experts FFN: a linear"
                    + " router `blocks.<i>.moe.router.weight` [experts, model_dim] scores the experts per token, the"
                    + " `top_k` best are run as grouped matmuls over only the tokens routed to them, and their outputs are"
                    + " summed with the router weights normalised over the chosen k (Mixtral's softmax-then-renormalise,"
                    + " or DeepSeek-V3's normalised sigmoids), plus the always-on shared experts. Expert weights are"
                    + " stacked per layer: `blocks.<i>.moe.experts.{fc,proj}.weight` or `{gate,up,proj}` [experts, out, in]."
                    + " With `capacity_factor` > 0 an expert keeps the first tokens in batch order (sequence by sequence,"
                    + " position by position) and drops the rest, so a token's output depends on the tokens before it in"
                    + " the whole batch (earlier sequences too), never on later ones; decoding (`generate`) routes without a"
                    + " capacity. `count` reports active (per-token) and total parameters.",
            java.util.stream.Stream.of(List.of(type(MoeBlock.TYPE), optional("mixer", oneOf(MixerType.values()),
                    MixerType.PLAIN, "The sequence mixer before the experts: that block type's mixer with its fields (the"
                            + " type column names the mixers a field belongs to; another mixer's fields are refused). Its"
                            + " parameters are named as in that block (`attn.*`, or `mixer.*` for the recurrent ones).")),
                    moeMixerFields(), List.of(
                    required("experts", "integer >= 2", "Routed experts.").aka("num_experts", "n_routed_experts", "num_local_experts"),
                    optional("top_k", "integer in 1..experts", 2, "Experts per token.").aka("num_experts_per_tok", "k"),
                    optional("expert_ffn", "`mlp` or `swiglu`", FfnType.SWIGLU, "Each expert's FFN (`mlp` uses `activation`)."),
                    derived("expert_mult", "number; round(model_dim * expert_mult) > 0", "`mlp_mult`",
                            "Expert hidden width multiplier.").aka("moe_intermediate_size"),
                    optional("shared_experts", "integer >= 0", 0, "Always-on experts, run on every token as one dense FFN"
                            + " `blocks.<i>.moe.shared.*` of shared_experts × the expert width.").aka("n_shared_experts"),
                    optional("shared_expert_gate", "boolean; needs `shared_experts`", false, "Scale the shared experts'"
                            + " output per token by sigmoid(x·w) (Qwen2-MoE, Qwen3-Next), parameter"
                            + " `blocks.<i>.moe.shared_gate.weight` [1, model_dim]."),
                    optional("router", oneOf(RouterType.values()), RouterType.SOFTMAX, "Expert affinities: softmax over"
                            + " the experts, or sigmoid per expert (DeepSeek-V3); the gates are the chosen affinities"
                            + " normalised to sum 1.").aka("scoring_func"),
                    derived("aux_loss_coef", "number >= 0", "0.01 with `softmax`, else 0", "Switch/GShard load-balancing"
                            + " loss coef·E·Σ_i f_i·P_i added to the training loss (f_i: fraction of the batch's tokens"
                            + " that chose expert i among their top k, so Σ f_i = top_k as in Hugging Face's Mixtral;"
                            + " P_i: mean router probability of i, normalised sigmoids with `sigmoid`), per layer and"
                            + " summed over layers; reported as `aux_loss` (coef·top_k when balanced). 0 turns it off.").aka("router_aux_loss_coef", "aux_loss_alpha", "load_balance_coef"),
                    optional("bias_balancing", "boolean", false, "DeepSeek-V3 auxiliary-loss-free balancing: a per-expert"
                            + " bias `blocks.<i>.moe.router.balance_bias` (tagged `buffer`, not trained) is added to the"
                            + " affinities for the top-k choice only, and after every step b_i += bias_update_rate ·"
                            + " sign(mean load − load_i)."),
                    optional("bias_update_rate", "number > 0", 0.001, "The bias step of `bias_balancing`."),
                    optional("capacity_factor", "number >= 0", 0.0, "0: no capacity limit. Else each expert keeps"
                            + " ceil(capacity_factor · tokens · top_k / experts) tokens of a batch (first come, in batch"
                            + " order); the others contribute zero for that expert and are counted as dropped."),
                    blockMlpMult(),
                    repeat())).flatMap(List::stream).toList());

    static final SectionDoc GROUP = new SectionDoc("Block `group`",
            "A sub-list of blocks repeated as a unit: hybrid layer patterns in one entry, e.g. `{\"type\": \"group\","
                    + " \"repeat\": 4, \"blocks\": [{\"type\": \"plain\", \"heads\": 4, \"window_size\": 512, \"repeat\": 3},"
                    + " {\"type\": \"plain\", \"heads\": 4}]}` is 16 layers: three local, one global, four times. Layers"
                    + " are numbered through the expansion, so parameters stay `blocks.<layer>.…`. Groups may nest.",
            List.of(
                    type(GroupBlock.TYPE),
                    required("blocks", "non-empty array of blocks", "The sub-list, in order (any block types).")
                            .aka("layers", "pattern"),
                    optional("repeat", POS_INT, 1, "How many times the whole sub-list repeats.")
                            .aka("n_layer", "n_layers", "count", "times")));

    static final SectionDoc RETNET = new SectionDoc("Block `retnet`",
            "RetNet (Sun et al. 2023): pre-norm multi-scale retention, then its FFN tail. Per head h, retention"
                    + " y_t = Σ_{j<=t} γ_h^(t-j) (q_t·k_j) v_j with γ_h = 1 - 2^(-5-h) (k scaled by head_dim^-1/2; with"
                    + " `\"positional_embedding\": \"rope\"` q and k are rotated first, the paper's xPos-style Θ)."
                    + " The heads go through a group norm (a LayerNorm over each head's value_dim channels, no affine"
                    + " weights, eps `norm_eps`), are gated by swish(x·W_G) and projected back: `blocks.<i>.attn_norm`,"
                    + " `blocks.<i>.retention.{q,k,v,gate,proj}.weight`. Trained in the chunked (parallel) form;"
                    + " `generate` carries the state [heads, head_dim, value_dim] per layer instead of a KV cache.",
            List.of(
                    type(RetnetBlock.TYPE),
                    required("heads", "integer > 0, divides model_dim unless `head_dim` is set", "Retention heads.")
                            .aka("n_head", "n_heads", "num_heads"),
                    derived("head_dim", "integer > 0 (even with `rope`)", "model_dim / heads",
                            "Query/key width of each head.").aka("d_head", "head_size"),
                    derived("value_dim", "integer > 0", "2 · head_dim", "Value width of each head (the paper's value"
                            + " factor 2; W_V and W_G are [heads·value_dim, model_dim]).").aka("v_head_dim"),
                    optional("activation", oneOf(Activation.values()), Activation.GELU,
                            "FFN nonlinearity (used by the `mlp` tail).").aka("act"),
                    optional("ffn", oneOf(FfnType.values()), FfnType.MLP, "FFN tail after retention."),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc MLSTM = new SectionDoc("Block `mlstm`",
            "xLSTM's matrix LSTM (Beck et al. 2024) as a pre-norm residual layer, then its FFN tail. Per head:"
                    + " q, k (scaled by head_dim^-1/2), v from linear maps of the normed input, gate pre-activations"
                    + " ĩ, f̃ = x·w + b per head, C_t = σ(f̃_t)C_{t-1} + e^(ĩ_t) v_t k_tᵀ, n_t likewise with k_t,"
                    + " h̃_t = C_t q_t / max(|n_tᵀq_t|, 1), evaluated with the stabiliser m_t = max(log σ(f̃_t) + m_{t-1},"
                    + " ĩ_t); then h = σ(x·W_O) ⊙ norm(h̃) (a LayerNorm per head, no affine weights) and the output"
                    + " projection. Parameters `blocks.<i>.attn_norm`, `blocks.<i>.mlstm.{q,k,v,ogate,proj}.weight`,"
                    + " `blocks.<i>.mlstm.{igate,fgate}.{weight,bias}`, initialised as the official code: gate weights"
                    + " zero, input-gate bias normal(0.1), forget-gate bias linspace(3, 6) over the heads. The official"
                    + " mLSTM block's up-projection, causal convolution and learnable skip are not part of this layer."
                    + " Trained in the chunked (parallel) form; `generate` carries (C, n, m) per head.",
            List.of(
                    type(MlstmBlock.TYPE),
                    optional("heads", "integer > 0, divides model_dim unless `head_dim` is set", 4, "mLSTM heads.")
                            .aka("n_head", "n_heads", "num_heads"),
                    derived("head_dim", "integer > 0", "model_dim / heads", "Width of q, k and v of each head.")
                            .aka("d_head", "head_size"),
                    optional("activation", oneOf(Activation.values()), Activation.GELU,
                            "FFN nonlinearity (used by the `mlp` tail).").aka("act"),
                    optional("ffn", oneOf(FfnType.values()), FfnType.MLP, "FFN tail after the mLSTM."),
                    blockMlpMult(),
                    repeat()));

    static final SectionDoc RWKV = new SectionDoc("Block `rwkv`",
            "RWKV-6 \"Finch\" (Peng et al. 2024; RWKV-LM's RWKV_Tmix_x060 and RWKV_CMix_x060): pre-norm time mixing,"
                    + " then pre-norm channel mixing, which replaces the FFN. Time mixing: xx = x_{t-1} - x (token shift);"
                    + " data-dependent interpolations x + xx⊙(μ_c + LoRA_c(x + xx⊙μ_x)) for w, k, v, r, g (LoRA(z) ="
                    + " tanh(z·Aᵀ)·Bᵀ); per head of head_size channels the wkv state S_t = diag(exp(-exp(w_t))) S_{t-1}"
                    + " + k_t v_tᵀ with w = time_decay + LoRA_d(x_w) and output r_tᵀ(S_{t-1} + diag(u) k_t v_tᵀ); ln_x"
                    + " (group norm per head, eps 64e-5, weight and bias); output projection of ln_x ⊙ silu(gate)."
                    + " Channel mixing: σ(W_r x_r) ⊙ W_v relu(W_k x_k)². Parameters `blocks.<i>.attn_norm`,"
                    + " `blocks.<i>.tmix.*`, `blocks.<i>.mlp_norm`, `blocks.<i>.cmix.*`; initialisation simplified from"
                    + " RWKV-LM (μ 0.5, time_decay linspace(-6, -1), u 0.5, LoRA A zero, B normal(0.01)). RWKV-LM's"
                    + " extra LayerNorm after the embedding (ln0) is the top-level `embed_norm`. Trained in the chunked"
                    + " (parallel) form; `generate` carries the wkv state and both token-shift rows per layer.",
            List.of(
                    type(RwkvBlock.TYPE),
                    optional("head_size", "integer > 0, divides model_dim", 64, "Channels per wkv head"
                            + " (heads = model_dim / head_size).").aka("head_dim", "head_size_a"),
                    optional("mix_lora_dim", POS_INT, 32, "Rank of the five token-shift (ddlerp) LoRAs."),
                    optional("decay_lora_dim", POS_INT, 64, "Rank of the decay LoRA."),
                    derived("mlp_mult", "number; round(model_dim * mlp_mult) > 0", "top-level `mlp_mult`",
                            "Channel-mix hidden width multiplier (RWKV-6 uses 3.5)."),
                    repeat()));

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
                    valueHeads(),
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

    static final SectionDoc MAMBA1 = new SectionDoc("Block `mamba`",
            "Pre-norm Mamba mixer (Gu & Dao's selective scan, Mamba-1, as in Jamba), then the FFN tail of `plain`:"
                    + " in_proj to x and z (expand·model_dim each), SiLU(short conv + bias) on x, x_proj to dt (dt_rank), B and C"
                    + " (d_state each; with `dt_norm` each RMSNorm'd with a weight, eps `norm_eps`, as Jamba),"
                    + " δ = softplus(dt_proj(dt) + bias), A = −exp(A_log) [inner, d_state]; per inner channel c"
                    + " h_t = e^{δ_t[c]·A[c]} ⊙ h_{t−1} + δ_t[c] x_t[c] B_t, y_t[c] = C_t·h_t + D[c] x_t[c]; then y·SiLU(z) and"
                    + " out_proj. It runs on the `wkv` scan with one head per inner channel (key width d_state, value width 1),"
                    + " so its intermediates hold inner·d_state floats per token.",
            List.of(
                    type(Mamba1Block.TYPE),
                    optional("d_state", POS_INT, 16, "State size N per inner channel.").aka("state_size", "mamba_d_state"),
                    optional("expand", POS_INT, 2, "Inner width is expand·model_dim.").aka("mamba_expand"),
                    convSize(),
                    derived("dt_rank", POS_INT, "ceil(model_dim / 16)", "Bottleneck width of the step-size projection.")
                            .aka("mamba_dt_rank", "time_step_rank"),
                    optional("dt_norm", "boolean", false, "RMSNorm with weights on the dt, B and C projections (Jamba's"
                            + " dt_layernorm, b_layernorm, c_layernorm)."),
                    ffnActivation(),
                    ffnTail(),
                    blockMlpMult(),
                    repeat()));

    /** Block type names, in doc order. */
    static final List<String> BLOCK_TYPES = List.of(PlainBlock.TYPE, MlaBlock.TYPE, MlpBlock.TYPE, SwigluBlock.TYPE, MoeBlock.TYPE, GroupBlock.TYPE,
            RetnetBlock.TYPE, MlstmBlock.TYPE, RwkvBlock.TYPE, GatedDeltaNetBlock.TYPE, Mamba2Block.TYPE, Mamba1Block.TYPE);

    /** Every section, in doc order. */
    static final List<SectionDoc> ALL = List.of(TOP, TRAINING, PARAM_GROUP, DATA, PLAIN, MLA, MLP, SWIGLU, MOE, GROUP, RETNET, MLSTM,
            RWKV, GATED_DELTANET, MAMBA2, MAMBA1);

    /** @return the section for a block type, or null if the type is unknown */
    static SectionDoc block(String type) {
        return switch (type) {
            case PlainBlock.TYPE -> PLAIN;
            case MlaBlock.TYPE -> MLA;
            case MlpBlock.TYPE -> MLP;
            case SwigluBlock.TYPE -> SWIGLU;
            case MoeBlock.TYPE -> MOE;
            case GroupBlock.TYPE -> GROUP;
            case RetnetBlock.TYPE -> RETNET;
            case MlstmBlock.TYPE -> MLSTM;
            case RwkvBlock.TYPE -> RWKV;
            case GatedDeltaNetBlock.TYPE -> GATED_DELTANET;
            case Mamba2Block.TYPE -> MAMBA2;
            case Mamba1Block.TYPE -> MAMBA1;
            default -> null;
        };
    }

    static String oneOf(JsonEnum[] values) {
        return "one of " + Arrays.stream(values).map(v -> "`" + v.jsonName() + "`").collect(Collectors.joining(", "));
    }
}
