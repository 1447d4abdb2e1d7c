package dev.mixlab.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Writes a resolved {@link Config} back to JSON, with every default spelled out. */
public final class ConfigWriter {
    private ConfigWriter() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    // Fixed "\n" line ends and spacing so the text (and its hash) is the same on every platform.
    private static final DefaultPrettyPrinter PRINTER = new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"));

    /**
     * @param c a resolved config
     * @return pretty JSON of every field (in documented order); {@link ConfigLoader#parse} reads it
     *         back to an equal config
     */
    public static String toJson(Config c) {
        try {
            return ConfigLoader.MAPPER.writer(PRINTER).writeValueAsString(tree(c)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree", e);
        }
    }

    /** @return the first 12 hex digits of the SHA-256 of {@link #toJson(Config)}: a short config id */
    public static String hash(Config c) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(toJson(c).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static ObjectNode tree(Config c) {
        ObjectNode o = F.objectNode();
        o.put("name", c.name());
        o.put("model_dim", c.modelDim());
        o.put("vocab_size", c.vocabSize());
        o.put("seq_len", c.seqLen());
        o.put("mlp_mult", c.mlpMult());
        ArrayNode blocks = o.putArray("blocks");
        for (BlockSpec b : c.blocks()) blocks.add(block(b));
        o.put("tie_embeddings", c.tieEmbeddings());
        o.put("dropout", c.dropout());
        o.put("positional_embedding", c.positionalEmbedding().jsonName());
        o.put("norm_type", c.normType().jsonName());
        o.put("norm_eps", c.normEps());
        o.put("norm_weight", c.normWeight());
        o.put("bias", c.bias());
        o.put("attn_bias", c.attnBias());
        o.put("init_std", c.initStd());
        o.put("rope_base", c.ropeBase());
        o.put("rope_interleaved", c.ropeInterleaved());
        o.put("rope_dims", c.ropeDims());
        o.put("qk_norm", c.qkNorm());
        o.put("qk_norm_weight", c.qkNormWeight());
        o.put("q_gain", c.qGain());
        o.put("qk_gain_init", c.qkGainInit());
        o.put("branch_scales", c.branchScales());
        o.put("resid_mix", c.residMix());
        o.put("unet_skips", c.unetSkips());
        o.put("logit_softcap", c.logitSoftcap());
        o.put("tied_embed_init_std", c.tiedEmbedInitStd());
        o.put("zero_init_proj", c.zeroInitProj());
        o.put("embed_norm", c.embedNorm());
        o.set("training", training(c.training()));
        ObjectNode d = o.putObject("data");
        d.put("train", c.data().train());
        d.put("val", c.data().val());
        d.put("tokenizer_model", c.data().tokenizerModel());
        return o;
    }

    private static ObjectNode training(TrainSpec t) {
        ObjectNode o = F.objectNode();
        o.put("steps", t.steps());
        o.put("lr", t.lr());
        o.put("min_lr", t.minLr());
        o.put("schedule", t.schedule().jsonName());
        o.put("warmup_steps", t.warmupSteps());
        o.put("batch_tokens", t.batchTokens());
        o.put("optimizer", t.optimizer().jsonName());
        o.put("beta1", t.beta1());
        o.put("beta2", t.beta2());
        o.put("eps", t.eps());
        o.put("weight_decay", t.weightDecay());
        o.put("grad_clip", t.gradClip());
        o.put("seed", t.seed());
        o.put("val_every_steps", t.valEverySteps());
        o.put("val_tokens", t.valTokens());
        o.put("log_every_steps", t.logEverySteps());
        o.put("time_budget_seconds", t.timeBudgetSeconds());
        o.put("warmdown_steps", t.warmdownSteps());
        o.put("max_wallclock_seconds", t.maxWallclockSeconds());
        o.put("grad_accum_steps", t.gradAccumSteps());
        o.put("micro_batch_tokens", t.microBatchTokens());
        o.put("precision", t.precision().jsonName());
        o.put("sampler", t.sampler().jsonName());
        o.put("muon_momentum", t.muonMomentum());
        o.put("muon_momentum_warmup_start", t.muonMomentumWarmupStart());
        o.put("muon_momentum_warmup_steps", t.muonMomentumWarmupSteps());
        o.put("muon_ns_steps", t.muonNsSteps());
        ArrayNode groups = o.putArray("param_groups");
        for (ParamGroup g : t.paramGroups()) {
            ObjectNode n = groups.addObject();
            n.put("name", g.name());
            if (g.match().size() == 1) n.put("match", g.match().get(0));
            else g.match().forEach(n.putArray("match")::add);
            n.put("rank", g.rank());
            n.put("tag", g.tag());
            n.put("optimizer", g.optimizer().jsonName());
            n.put("lr", g.lr());
            n.put("beta1", g.beta1());
            n.put("beta2", g.beta2());
            n.put("eps", g.eps());
            n.put("weight_decay", g.weightDecay());
        }
        return o;
    }

    /** The fields of {@code plain} attention in schema order, with its {@code ffn} tail or without (inside {@code moe}). */
    private static void plainAttention(ObjectNode o, PlainBlock p, boolean ffn) {
        o.put("heads", p.heads());
        o.put("kv_heads", p.kvHeads());
        o.put("head_dim", p.headDim());
        o.put("activation", p.activation().jsonName());
        if (ffn) o.put("ffn", p.ffn().jsonName());
        o.put("window_size", p.windowSize());
        o.put("attn_softcap", p.attnSoftcap());
        o.put("alibi", p.alibi());
        o.put("attn_chunk_size", p.attnChunkSize());
        o.put("layer_pattern", p.layerPattern());
        o.put("rope_base", p.ropeBase());
        o.put("nope", p.nope());
        o.put("global_rope_base", p.globalRopeBase());
        o.put("global_nope", p.globalNope());
        o.put("differential", p.differential());
        o.put("output_gate", p.outputGate());
    }

    private static ObjectNode block(BlockSpec b) {
        ObjectNode o = F.objectNode();
        o.put("type", b.type());
        switch (b) {
            case PlainBlock p -> plainAttention(o, p, true);
            case MlaBlock m -> {
                o.put("heads", m.heads());
                o.put("kv_lora_rank", m.kvLoraRank());
                o.put("q_lora_rank", m.qLoraRank());
                o.put("qk_nope_head_dim", m.qkNopeHeadDim());
                o.put("qk_rope_head_dim", m.qkRopeHeadDim());
                o.put("v_head_dim", m.vHeadDim());
                o.put("activation", m.activation().jsonName());
                o.put("ffn", m.ffn().jsonName());
            }
            case MlpBlock m -> o.put("activation", m.activation().jsonName());
            case SwigluBlock s -> { }
            case MoeBlock m -> {
                switch (m.mixer()) {
                    case PlainBlock p -> {
                        o.put("mixer", MixerType.PLAIN.jsonName());
                        plainAttention(o, p, false);   // a moe block's FFN is its experts
                    }
                    case MlaBlock a -> {   // another mixer's fields would be refused on reading
                        o.put("mixer", MixerType.MLA.jsonName());
                        o.put("heads", a.heads());
                        o.put("activation", a.activation().jsonName());
                        o.put("kv_lora_rank", a.kvLoraRank());
                        o.put("q_lora_rank", a.qLoraRank());
                        o.put("qk_nope_head_dim", a.qkNopeHeadDim());
                        o.put("qk_rope_head_dim", a.qkRopeHeadDim());
                        o.put("v_head_dim", a.vHeadDim());
                    }
                    case GatedDeltaNetBlock g -> {
                        o.put("mixer", MixerType.GATED_DELTANET.jsonName());
                        o.put("heads", g.heads());
                        o.put("head_dim", g.headDim());
                        o.put("activation", g.activation().jsonName());
                        o.put("conv_size", g.convSize());
                        o.put("expand_v", g.expandV());
                o.put("value_heads", g.valueHeads());
                    }
                    case Mamba2Block s -> {
                        o.put("mixer", MixerType.MAMBA2.jsonName());
                        o.put("head_dim", s.headDim());
                        o.put("activation", s.activation().jsonName());
                        o.put("conv_size", s.convSize());
                        o.put("d_state", s.dState());
                        o.put("expand", s.expand());
                        o.put("ngroups", s.ngroups());
                    }
                    case Mamba1Block s -> {
                        o.put("mixer", MixerType.MAMBA.jsonName());
                        o.put("activation", s.activation().jsonName());
                        o.put("conv_size", s.convSize());
                        o.put("d_state", s.dState());
                        o.put("expand", s.expand());
                        o.put("dt_rank", s.dtRank());
                        o.put("dt_norm", s.dtNorm());
                    }
                }
                o.put("experts", m.experts());
                o.put("top_k", m.topK());
                o.put("expert_ffn", m.expertFfn().jsonName());
                o.put("expert_mult", m.expertMult());
                o.put("shared_experts", m.sharedExperts());
                o.put("shared_expert_gate", m.sharedExpertGate());
                o.put("router", m.router().jsonName());
                o.put("aux_loss_coef", m.auxLossCoef());
                o.put("bias_balancing", m.biasBalancing());
                o.put("bias_update_rate", m.biasUpdateRate());
                o.put("capacity_factor", m.capacityFactor());
            }
            case GroupBlock g -> {
                ArrayNode sub = o.putArray("blocks");
                for (BlockSpec c : g.blocks()) sub.add(block(c));
                o.put("repeat", g.repeat());
                return o;   // a group has no mlp_mult of its own
            }
            case PluginBlock p -> o.setAll(p.fields());
            case RetnetBlock r -> {
                o.put("heads", r.heads());
                o.put("head_dim", r.headDim());
                o.put("value_dim", r.valueDim());
                o.put("activation", r.activation().jsonName());
                o.put("ffn", r.ffn().jsonName());
            }
            case RwkvBlock w -> {
                o.put("head_size", w.headSize());
                o.put("mix_lora_dim", w.mixLoraDim());
                o.put("decay_lora_dim", w.decayLoraDim());
            }
            case MlstmBlock m -> {
                o.put("heads", m.heads());
                o.put("head_dim", m.headDim());
                o.put("activation", m.activation().jsonName());
                o.put("ffn", m.ffn().jsonName());
            }
            case GatedDeltaNetBlock g -> {
                o.put("heads", g.heads());
                o.put("head_dim", g.headDim());
                o.put("conv_size", g.convSize());
                o.put("expand_v", g.expandV());
                o.put("value_heads", g.valueHeads());
                o.put("activation", g.activation().jsonName());
                o.put("ffn", g.ffn().jsonName());
            }
            case Mamba2Block m -> {
                o.put("d_state", m.dState());
                o.put("head_dim", m.headDim());
                o.put("expand", m.expand());
                o.put("conv_size", m.convSize());
                o.put("ngroups", m.ngroups());
                o.put("activation", m.activation().jsonName());
                o.put("ffn", m.ffn().jsonName());
            }
            case Mamba1Block m -> {
                o.put("d_state", m.dState());
                o.put("expand", m.expand());
                o.put("conv_size", m.convSize());
                o.put("dt_rank", m.dtRank());
                o.put("dt_norm", m.dtNorm());
                o.put("activation", m.activation().jsonName());
                o.put("ffn", m.ffn().jsonName());
            }
        }
        o.put("mlp_mult", b.mlpMult());
        o.put("repeat", b.repeat());
        return o;
    }
}
