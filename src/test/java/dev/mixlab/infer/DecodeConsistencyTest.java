package dev.mixlab.infer;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every block type: decoding with the KV cache (a prefill of the prompt in one call, then one
 * token per call) gives the same logits as recomputing the full prefix with the forward program.
 */
class DecodeConsistencyTest {
    static final String BASE = """
            {"model_dim": 24, "seq_len": 12, "vocab_size": 40, "positional_embedding": "%s", "norm_type": "%s",
             "blocks": [%s], %s "training": {"batch_tokens": 24}}
            """;

    /** Parameter golf's architecture options (U-Net skips, resid_mix with x0, q/k norm, q gains, softcap ...). */
    static final String GOLF = "\"qk_norm\": true, \"q_gain\": true, \"branch_scales\": true, \"resid_mix\": true,"
            + " \"unet_skips\": true, \"logit_softcap\": 5, \"embed_norm\": true, \"norm_weight\": false,";

    static Stream<Arguments> cases() {
        String[][] models = {
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 3}", ""},
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"ffn\": \"swiglu\"}", ""},
                {"none", "layernorm", "{\"type\": \"plain\", \"heads\": 2, \"kv_heads\": 1}, {\"type\": \"mlp\", \"activation\": \"relu2\"}, {\"type\": \"swiglu\"}", ""},
                // golf: an odd layer count leaves the last decoder layer without a skip; partial RoPE
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"activation\": \"relu2\", \"repeat\": 3}",
                        GOLF + " \"rope_dims\": 4,"},
                {"learned_absolute", "layernorm", "{\"type\": \"plain\", \"heads\": 2}, {\"type\": \"mlp\"}, {\"type\": \"swiglu\"},"
                        + " {\"type\": \"plain\", \"heads\": 3, \"kv_heads\": 1}", GOLF},
                // sliding windows shorter than the prompt and than the sequence
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"window_size\": 3},"
                        + " {\"type\": \"plain\", \"heads\": 2, \"window_size\": 7}", ""},
                // attention logit softcaps small enough to bite, one with a sliding window
                {"rope", "rmsnorm", "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"attn_softcap\": 0.5},"
                        + " {\"type\": \"plain\", \"heads\": 2, \"window_size\": 4, \"attn_softcap\": 2}", ""},
                // ALiBi without positional embeddings: 6 heads (not a power of two), one layer also windowed and softcapped
                {"none", "rmsnorm", "{\"type\": \"plain\", \"heads\": 6, \"kv_heads\": 3, \"alibi\": true},"
                        + " {\"type\": \"plain\", \"heads\": 4, \"window_size\": 4, \"attn_softcap\": 2, \"alibi\": true}", ""},
                // recurrent mixers: gated delta rule and Mamba-2 (SSD), alone and in hybrids with attention
                {"none", "rmsnorm", "{\"type\": \"gated_deltanet\", \"heads\": 2, \"expand_v\": 2, \"ffn\": \"swiglu\"}", ""},
                {"learned_absolute", "layernorm", "{\"type\": \"gated_deltanet\", \"heads\": 3, \"conv_size\": 6},"
                        + " {\"type\": \"plain\", \"heads\": 2}", ""},
                {"none", "rmsnorm", "{\"type\": \"mamba2\", \"d_state\": 8, \"head_dim\": 12, \"ngroups\": 2, \"ffn\": \"none\", \"repeat\": 2}", ""},
                {"rope", "rmsnorm", "{\"type\": \"mamba2\", \"d_state\": 4, \"head_dim\": 8, \"conv_size\": 3},"
                        + " {\"type\": \"plain\", \"heads\": 2}, {\"type\": \"gated_deltanet\", \"heads\": 2, \"head_dim\": 6}", GOLF},
        };
        return Stream.of(models).flatMap(m -> Stream.of(
                Arguments.of(m[0] + " " + m[2] + (m[3].isEmpty() ? "" : " golf"), BASE.formatted(m[0], m[1], m[2], m[3]), new ReferenceBackend(), 1e-10),
                Arguments.of(m[0] + " " + m[2] + (m[3].isEmpty() ? "" : " golf"), BASE.formatted(m[0], m[1], m[2], m[3]), new CpuBackend(), 1e-5)));
    }

    @ParameterizedTest(name = "{0} on {2}")
    @MethodSource("cases")
    void cachedDecodingEqualsFullRecompute(String name, String json, Backend backend, double tol) {
        Config c = ConfigLoader.parse(json, "decode.json");
        int batch = 2, t = c.seqLen(), prompt = 5;
        Random r = new Random(1);
        int[] ids = new int[batch * t];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(c.vocabSize());
        Program fwd = Programs.forward(c, batch);
        Map<String, float[]> weights = ParamInit.values(fwd, 3);
        for (Value p : fwd.params()) {
            // constant-initialised control tensors (resid_mix rows start at 1 and 0, ...): perturb so every path counts
            if (p.tags().contains("control")) for (int i = 0; i < weights.get(p.name()).length; i++) weights.get(p.name())[i] += (float) (0.3 * r.nextGaussian());
        }
        double[] full;
        try (Executable e = backend.compile(fwd)) {
            for (Value p : fwd.params()) e.setFloats(p.name(), weights.get(p.name()));
            e.setInts(Programs.IDS, ids);
            e.setInts(Programs.TARGETS, new int[ids.length]);
            e.run();
            full = e.getDoubles("logits");
        }
        int v = c.vocabSize();
        Program pre = Programs.decode(c, batch, prompt), one = Programs.decode(c, batch, 1);
        try (Executable ep = backend.compile(pre); Executable e1 = backend.compile(one)) {
            for (Value p : pre.params()) {
                ep.setFloats(p.name(), weights.get(p.name()));
                e1.setFloats(p.name(), weights.get(p.name()));
            }
            int[] first = new int[batch * prompt];
            for (int b = 0; b < batch; b++) System.arraycopy(ids, b * t, first, b * prompt, prompt);
            ep.setInts(Programs.IDS, first);
            ep.setInts(Programs.POS, new int[] {0});
            ep.run();
            double[] lp = ep.getDoubles("logits");
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < prompt; s++) compare(full, (b * t + s) * v, lp, (b * prompt + s) * v, v, tol, "prefill b" + b + " pos " + s);
            }
            for (Value st : pre.state()) e1.setDoubles(st.name(), ep.getDoubles(st.name()));
            for (int pos = prompt; pos < t; pos++) {
                int[] tok = new int[batch];
                for (int b = 0; b < batch; b++) tok[b] = ids[b * t + pos];
                e1.setInts(Programs.IDS, tok);
                e1.setInts(Programs.POS, new int[] {pos});
                e1.run();
                double[] l1 = e1.getDoubles("logits");
                for (int b = 0; b < batch; b++) compare(full, (b * t + pos) * v, l1, b * v, v, tol, "step b" + b + " pos " + pos);
            }
        }
    }

    static void compare(double[] want, int wo, double[] got, int go, int n, double tol, String what) {
        double max = 0, diff = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(want[wo + i]));
            diff = Math.max(diff, Math.abs(want[wo + i] - got[go + i]));
        }
        assertTrue(diff <= tol * Math.max(1, max), what + ": max |Δlogit| " + diff + " (max |logit| " + max + ")");
    }
}
