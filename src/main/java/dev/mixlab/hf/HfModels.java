package dev.mixlab.hf;

import dev.mixlab.config.Config;
import dev.mixlab.config.PlainBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The tensor-name maps between Hugging Face checkpoints and mixlab parameters, per family. */
final class HfModels {
    private HfModels() {}

    /** The two weight layouts mixlab maps: Llama-style (Llama, Mistral, Qwen2) and GPT-2. */
    enum Layout { LLAMA, GPT2 }

    /** HF buffers that are not weights (rotary tables, GPT-2's causal mask). */
    private static final Pattern BUFFERS = Pattern.compile(
            ".*(rotary_emb\\.inv_freq|\\.attn\\.bias|\\.attn\\.masked_bias)");

    static boolean isBuffer(String hfName) {
        return BUFFERS.matcher(hfName).matches();
    }

    static List<Rule> rules(Layout layout, Config c, String gpt2Prefix) {
        return layout == Layout.LLAMA ? llama(c) : gpt2(c, gpt2Prefix);
    }

    /** Llama, Mistral, Qwen2: {@code model.layers.<i>.self_attn.q_proj}, RMSNorm, SwiGLU. */
    static List<Rule> llama(Config c) {
        List<Rule> r = new ArrayList<>();
        r.add(Rule.same("model.embed_tokens.weight", "tok_emb.weight"));
        boolean qkvBias = c.bias() || c.attnBias();
        for (int i = 0; i < c.layers().size(); i++) {
            String h = "model.layers." + i + ".", m = "blocks." + i + ".";
            r.add(Rule.same(h + "input_layernorm.weight", m + "attn_norm.weight"));
            for (String[] p : new String[][] {{"q", "q"}, {"k", "k"}, {"v", "v"}, {"o", "proj"}}) {
                r.add(Rule.same(h + "self_attn." + p[0] + "_proj.weight", m + "attn." + p[1] + ".weight"));
                if (p[0].equals("o") ? c.bias() : qkvBias) {
                    r.add(Rule.same(h + "self_attn." + p[0] + "_proj.bias", m + "attn." + p[1] + ".bias"));
                }
            }
            r.add(Rule.same(h + "post_attention_layernorm.weight", m + "mlp_norm.weight"));
            for (String[] p : new String[][] {{"gate", "gate"}, {"up", "up"}, {"down", "proj"}}) {
                r.add(Rule.same(h + "mlp." + p[0] + "_proj.weight", m + "mlp." + p[1] + ".weight"));
                if (c.bias()) r.add(Rule.same(h + "mlp." + p[0] + "_proj.bias", m + "mlp." + p[1] + ".bias"));
            }
        }
        r.add(Rule.same("model.norm.weight", "final_norm.weight"));
        if (!c.tieEmbeddings()) r.add(Rule.same("lm_head.weight", "lm_head.weight"));
        return r;
    }

    /** GPT-2: {@code transformer.h.<i>.attn.c_attn} (fused q,k,v), Conv1D weights {@code [in,out]}, LayerNorm with bias. */
    static List<Rule> gpt2(Config c, String prefix) {
        List<Rule> r = new ArrayList<>();
        r.add(Rule.same(prefix + "wte.weight", "tok_emb.weight"));
        r.add(new Rule(prefix + "wpe.weight", List.of("pos_emb.weight"), false, true));
        for (int i = 0; i < c.layers().size(); i++) {
            String h = prefix + "h." + i + ".", m = "blocks." + i + ".";
            for (String s : new String[] {"weight", "bias"}) {
                r.add(Rule.same(h + "ln_1." + s, m + "attn_norm." + s));
                r.add(Rule.conv1d(h + "attn.c_attn." + s, m + "attn.q." + s, m + "attn.k." + s, m + "attn.v." + s));
                r.add(Rule.conv1d(h + "attn.c_proj." + s, m + "attn.proj." + s));
                r.add(Rule.same(h + "ln_2." + s, m + "mlp_norm." + s));
                r.add(Rule.conv1d(h + "mlp.c_fc." + s, m + "mlp.fc." + s));
                r.add(Rule.conv1d(h + "mlp.c_proj." + s, m + "mlp.proj." + s));
            }
        }
        r.add(Rule.same(prefix + "ln_f.weight", "final_norm.weight"));
        r.add(Rule.same(prefix + "ln_f.bias", "final_norm.bias"));
        if (!c.tieEmbeddings()) r.add(Rule.same("lm_head.weight", "lm_head.weight"));
        return r;
    }

    /** The first layer as a plain block; callers have checked that every layer is one. */
    static PlainBlock plain(Config c) {
        return (PlainBlock) c.layers().getFirst();
    }
}
