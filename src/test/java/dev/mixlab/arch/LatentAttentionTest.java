package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.MlaBlock;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ModelReport;
import dev.mixlab.train.Programs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code mla} block against DeepSeek-V2's multi-head latent attention: Hugging Face-layout weights
 * mapped onto mixlab's parameters give the output of a plain-loop re-implementation of the HF
 * modelling code (always) and of PyTorch ({@code reference/torch_mla.py}'s golden, when present); the
 * decode cache holds only the latent and the RoPE key, and {@code count} reports its size.
 */
class LatentAttentionTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/mla.json");

    /** The dims of one attention module (the golden's {@code config} object). */
    record Dims(int hidden, int heads, int kvRank, int qRank, int nope, int rope, int dv, int batch, int seq, double theta, double eps) {
        static Dims of(JsonNode c) {
            return new Dims(c.get("hidden").asInt(), c.get("heads").asInt(), c.get("kv_lora_rank").asInt(), c.get("q_lora_rank").asInt(),
                    c.get("qk_nope").asInt(), c.get("qk_rope").asInt(), c.get("v_head_dim").asInt(), c.get("batch").asInt(),
                    c.get("seq").asInt(), c.get("rope_theta").asDouble(), c.get("rms_norm_eps").asDouble());
        }

        int dqk() {
            return nope + rope;
        }

        /** A one-block mixlab config with these dims (RMSNorm, DeepSeek's interleaved RoPE storage). */
        Config config() {
            return ConfigLoader.parse("""
                    {"model_dim": %d, "seq_len": %d, "vocab_size": 8, "norm_type": "rmsnorm", "norm_eps": %s,
                     "positional_embedding": "rope", "rope_base": %s, "rope_interleaved": true,
                     "blocks": [{"type": "mla", "heads": %d, "kv_lora_rank": %d, "q_lora_rank": %d, "qk_nope_head_dim": %d,
                                 "qk_rope_head_dim": %d, "v_head_dim": %d}],
                     "training": {"batch_tokens": %d}}
                    """.formatted(hidden, seq, eps, theta, heads, kvRank, qRank, nope, rope, dv, seq), "mla.json");
        }

        /** Hugging Face DeepseekV2Attention's weight shapes ([out, in]). */
        Map<String, int[]> hfShapes() {
            Map<String, int[]> s = new LinkedHashMap<>();
            if (qRank == 0) {
                s.put("q_proj.weight", new int[] {heads * dqk(), hidden});
            } else {
                s.put("q_a_proj.weight", new int[] {qRank, hidden});
                s.put("q_a_layernorm.weight", new int[] {qRank});
                s.put("q_b_proj.weight", new int[] {heads * dqk(), qRank});
            }
            s.put("kv_a_proj_with_mqa.weight", new int[] {kvRank + rope, hidden});
            s.put("kv_a_layernorm.weight", new int[] {kvRank});
            s.put("kv_b_proj.weight", new int[] {heads * (nope + dv), kvRank});
            s.put("o_proj.weight", new int[] {hidden, heads * dv});
            return s;
        }
    }

    /** The golden's three cases, with weights drawn here. */
    static final Dims[] CASES = {
            new Dims(16, 4, 12, 0, 4, 4, 6, 2, 7, 100, 1e-6),
            new Dims(24, 3, 10, 8, 6, 2, 4, 2, 6, 100, 1e-6),
            new Dims(12, 2, 8, 6, 2, 4, 9, 1, 5, 100, 1e-6),
    };

    @ParameterizedTest(name = "case {0}")
    @ValueSource(ints = {0, 1, 2})
    void matchesLoopReimplementationOfDeepSeekV2(int which) {
        Dims d = CASES[which];
        Random r = new Random(11 + which);
        Map<String, double[]> hf = new LinkedHashMap<>();
        d.hfShapes().forEach((n, s) -> {
            double[] w = new double[s.length == 1 ? s[0] : s[0] * s[1]];
            for (int i = 0; i < w.length; i++) w[i] = n.endsWith("layernorm.weight") ? 1 + 0.2 * r.nextGaussian() : r.nextGaussian() / Math.sqrt(s[s.length - 1]);
            hf.put(n, w);
        });
        double[] x = new double[d.batch * d.seq * d.hidden];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        double[] want = naive(d, hf, x);
        assertOutputs(d, hf, x, want);
    }

    @Test
    void matchesPyTorchGolden() throws Exception {
        assertTrue(Files.exists(GOLDEN), "no " + GOLDEN + ": run reference/torch_mla.py on a machine with PyTorch");
        JsonNode root = new ObjectMapper().readTree(GOLDEN.toFile());
        assertEquals(CASES.length, root.get("cases").size());
        for (JsonNode cs : root.get("cases")) {
            Dims d = Dims.of(cs.get("config"));
            Map<String, double[]> hf = new LinkedHashMap<>();
            cs.get("weights").properties().forEach(e -> hf.put(e.getKey(), data(e.getValue())));
            assertEquals(d.hfShapes().keySet(), hf.keySet());
            double[] x = data(cs.get("x")), y = data(cs.get("y"));
            // the loop re-implementation reads HF semantics the same way PyTorch does
            assertArrayEquals(y, naive(d, hf, x), 1e-9, "loop re-implementation vs PyTorch, " + d);
            assertOutputs(d, hf, x, y);
        }
    }

    private static double[] data(JsonNode t) {
        JsonNode a = t.get("data");
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    /** Runs mixlab's block (the attention branch alone) on the reference and CPU backends and compares with {@code want}. */
    private static void assertOutputs(Dims d, Map<String, double[]> hf, double[] x, double[] want) {
        Config c = d.config();
        MlaBlock m = (MlaBlock) c.layers().getFirst();
        ProgramBuilder b = new ProgramBuilder("mla");
        Value in = b.input("x", TensorType.f32(Shape.of(d.batch, d.seq, d.hidden)));
        ModelContext ctx = new ModelContext(b, c, false, null, d.batch, null);
        b.output("y", LatentAttention.apply(ctx, "attn", in, m));
        Program p = b.build();
        Map<String, double[]> params = toMixlab(d, hf);
        assertEquals(new TreeMap<>(shapes(p)).keySet(), new TreeMap<>(params).keySet());
        for (Backend backend : List.<Backend>of(new ReferenceBackend(), new CpuBackend())) {
            try (Executable e = backend.compile(p)) {
                params.forEach(e::setDoubles);
                e.setDoubles("x", x);
                e.run();
                double[] got = e.getDoubles("y");
                double tol = backend instanceof ReferenceBackend ? 1e-9 : 1e-5;
                double max = 0;
                for (double v : want) max = Math.max(max, Math.abs(v));
                assertArrayEquals(want, got, tol * Math.max(1, max), backend + " vs DeepSeek-V2 MLA, " + d);
            }
        }
    }

    private static Map<String, Shape> shapes(Program p) {
        Map<String, Shape> s = new LinkedHashMap<>();
        for (Value v : p.params()) s.put(v.name(), v.shape());
        return s;
    }

    /**
     * HF → mixlab: q rows per head [nope | rope] become [rope | nope]; kv_a_proj_with_mqa splits into
     * kv_down (first r rows) and k_rope; kv_b_proj's per-head rows [k_nope | v] split into k_up and v_up.
     */
    static Map<String, double[]> toMixlab(Dims d, Map<String, double[]> hf) {
        Map<String, double[]> m = new LinkedHashMap<>();
        int dqk = d.dqk(), in = d.qRank == 0 ? d.hidden : d.qRank;
        double[] q = hf.get(d.qRank == 0 ? "q_proj.weight" : "q_b_proj.weight"), mq = new double[q.length];
        for (int h = 0; h < d.heads; h++) {
            for (int c = 0; c < dqk; c++) {
                int src = h * dqk + (c < d.rope ? d.nope + c : c - d.rope);
                System.arraycopy(q, src * in, mq, (h * dqk + c) * in, in);
            }
        }
        if (d.qRank == 0) {
            m.put("attn.q.weight", mq);
        } else {
            m.put("attn.q_down.weight", hf.get("q_a_proj.weight"));
            m.put("attn.q_norm.weight", hf.get("q_a_layernorm.weight"));
            m.put("attn.q_up.weight", mq);
        }
        double[] kva = hf.get("kv_a_proj_with_mqa.weight");
        m.put("attn.kv_down.weight", java.util.Arrays.copyOfRange(kva, 0, d.kvRank * d.hidden));
        m.put("attn.k_rope.weight", java.util.Arrays.copyOfRange(kva, d.kvRank * d.hidden, kva.length));
        m.put("attn.kv_norm.weight", hf.get("kv_a_layernorm.weight"));
        double[] kvb = hf.get("kv_b_proj.weight"), kUp = new double[d.heads * d.nope * d.kvRank], vUp = new double[d.heads * d.dv * d.kvRank];
        for (int h = 0; h < d.heads; h++) {
            int base = h * (d.nope + d.dv) * d.kvRank;
            System.arraycopy(kvb, base, kUp, h * d.nope * d.kvRank, d.nope * d.kvRank);
            System.arraycopy(kvb, base + d.nope * d.kvRank, vUp, h * d.dv * d.kvRank, d.dv * d.kvRank);
        }
        m.put("attn.k_up.weight", kUp);
        m.put("attn.v_up.weight", vUp);
        m.put("attn.proj.weight", hf.get("o_proj.weight"));
        return m;
    }

    /** DeepSeek-V2 MLA in plain loops over HF-layout weights (the semantics of modeling_deepseek.py). */
    static double[] naive(Dims d, Map<String, double[]> w, double[] x) {
        int D = d.hidden, H = d.heads, dn = d.nope, dr = d.rope, dv = d.dv, r = d.kvRank, dqk = d.dqk(), T = d.seq;
        double[] y = new double[d.batch * T * D];
        for (int b = 0; b < d.batch; b++) {
            double[][][] q = new double[T][][], k = new double[T][H][dqk], v = new double[T][H][dv];
            for (int t = 0; t < T; t++) {
                double[] xt = java.util.Arrays.copyOfRange(x, (b * T + t) * D, (b * T + t + 1) * D);
                double[] qf = d.qRank == 0 ? lin(w.get("q_proj.weight"), xt, H * dqk)
                        : lin(w.get("q_b_proj.weight"), rms(lin(w.get("q_a_proj.weight"), xt, d.qRank), w.get("q_a_layernorm.weight"), d.eps), H * dqk);
                double[] kva = lin(w.get("kv_a_proj_with_mqa.weight"), xt, r + dr);
                double[] ckv = rms(java.util.Arrays.copyOfRange(kva, 0, r), w.get("kv_a_layernorm.weight"), d.eps);
                double[] kpe = rope(java.util.Arrays.copyOfRange(kva, r, r + dr), t, d.theta);
                double[] kv = lin(w.get("kv_b_proj.weight"), ckv, H * (dn + dv));
                q[t] = new double[H][];
                for (int h = 0; h < H; h++) {
                    double[] qh = java.util.Arrays.copyOfRange(qf, h * dqk, (h + 1) * dqk);
                    double[] pe = rope(java.util.Arrays.copyOfRange(qh, dn, dqk), t, d.theta);
                    System.arraycopy(pe, 0, qh, dn, dr);
                    q[t][h] = qh;
                    System.arraycopy(kv, h * (dn + dv), k[t][h], 0, dn);
                    System.arraycopy(kpe, 0, k[t][h], dn, dr);
                    System.arraycopy(kv, h * (dn + dv) + dn, v[t][h], 0, dv);
                }
            }
            for (int t = 0; t < T; t++) {
                double[] o = new double[H * dv];
                for (int h = 0; h < H; h++) {
                    double[] s = new double[t + 1];
                    double mx = Double.NEGATIVE_INFINITY, z = 0;
                    for (int j = 0; j <= t; j++) {
                        for (int c = 0; c < dqk; c++) s[j] += q[t][h][c] * k[j][h][c];
                        s[j] /= Math.sqrt(dqk);
                        mx = Math.max(mx, s[j]);
                    }
                    for (int j = 0; j <= t; j++) z += s[j] = Math.exp(s[j] - mx);
                    for (int j = 0; j <= t; j++) for (int c = 0; c < dv; c++) o[h * dv + c] += s[j] / z * v[j][h][c];
                }
                System.arraycopy(lin(w.get("o_proj.weight"), o, D), 0, y, (b * T + t) * D, D);
            }
        }
        return y;
    }

    private static double[] lin(double[] w, double[] x, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) for (int i = 0; i < x.length; i++) y[o] += w[o * x.length + i] * x[i];
        return y;
    }

    private static double[] rms(double[] x, double[] g, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double s = 1 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * s * g[i];
        return y;
    }

    /** DeepSeek's RoPE on stored-interleaved channels: pair (2j, 2j+1) turns by t·θ^(−2j/d). */
    private static double[] rope(double[] x, int t, double theta) {
        double[] y = x.clone();
        int dd = x.length;
        for (int j = 0; j < dd / 2; j++) {
            double a = t * Math.pow(theta, -2.0 * j / dd), c = Math.cos(a), s = Math.sin(a);
            y[2 * j] = x[2 * j] * c - x[2 * j + 1] * s;
            y[2 * j + 1] = x[2 * j + 1] * c + x[2 * j] * s;
        }
        return y;
    }

    /**
     * Gradients of the whole attention branch (every parameter and the input; the padded-value and
     * padded-query/key layouts, the query latent) equal central finite differences in float64.
     */
    @ParameterizedTest(name = "case {0}")
    @ValueSource(ints = {0, 2})
    void branchGradientsMatchFiniteDifferences(int which) {
        Dims d = CASES[which];
        Config c = d.config();
        ProgramBuilder b = new ProgramBuilder("mla_grad");
        Value in = b.param("x", Shape.of(d.batch, 3, d.hidden), dev.mixlab.ir.Init.zeros());
        Value y = LatentAttention.apply(new ModelContext(b, c, false, null, d.batch, null), "attn", in, (MlaBlock) c.layers().getFirst());
        Value ct = b.input("ct", y.type());
        Map<Value, Value> g = dev.mixlab.autodiff.Autodiff.vjp(b, List.of(y), List.of(ct), b.params());
        b.output("y", y);
        g.forEach((p, gv) -> b.output("grad." + p.name(), gv));
        Program p = b.build();
        Random r = new Random(5);
        Map<String, Tensor> leaves = new LinkedHashMap<>();
        for (Value v : p.params()) {
            double[] w = new double[v.shape().intSize()];
            for (int i = 0; i < w.length; i++) w[i] = v.name().endsWith("norm.weight") ? 1 + 0.3 * r.nextGaussian() : 0.5 * r.nextGaussian();
            leaves.put(v.name(), Tensor.of(v.shape(), w));
        }
        double[] cot = new double[y.shape().intSize()];
        for (int i = 0; i < cot.length; i++) cot[i] = r.nextGaussian();
        leaves.put("ct", Tensor.of(y.shape(), cot));
        Map<String, Tensor> out = ReferenceInterpreter.run(p, leaves);
        for (Value v : p.params()) {
            double[] x = leaves.get(v.name()).f(), analytic = out.get("grad." + v.name()).f();
            double scale = 1e-3;
            for (double a : analytic) scale = Math.max(scale, Math.abs(a));
            for (int i = 0; i < x.length; i++) {
                double keep = x[i], h = 1e-6;
                x[i] = keep + h;
                double plus = dot(ReferenceInterpreter.run(p, leaves).get("y").f(), cot);
                x[i] = keep - h;
                double minus = dot(ReferenceInterpreter.run(p, leaves).get("y").f(), cot);
                x[i] = keep;
                assertEquals((plus - minus) / (2 * h), analytic[i], 1e-6 * scale, v.name() + "[" + i + "], " + d);
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Exact parameter shapes of one mla layer, with and without the query latent. */
    @Test
    void parameterShapes() {
        for (Dims d : CASES) {
            Program p = Programs.forward(d.config(), 1);
            Map<String, Shape> attn = new TreeMap<>();
            for (Value v : p.params()) if (v.name().startsWith("blocks.0.attn.")) attn.put(v.name().substring(14), v.shape());
            Map<String, Shape> want = new TreeMap<>();
            if (d.qRank == 0) {
                want.put("q.weight", Shape.of(d.heads * d.dqk(), d.hidden));
            } else {
                want.put("q_down.weight", Shape.of(d.qRank, d.hidden));
                want.put("q_norm.weight", Shape.of(d.qRank));
                want.put("q_up.weight", Shape.of(d.heads * d.dqk(), d.qRank));
            }
            want.put("kv_down.weight", Shape.of(d.kvRank, d.hidden));
            want.put("kv_norm.weight", Shape.of(d.kvRank));
            want.put("k_rope.weight", Shape.of(d.rope, d.hidden));
            want.put("k_up.weight", Shape.of(d.heads * d.nope, d.kvRank));
            want.put("v_up.weight", Shape.of(d.heads * d.dv, d.kvRank));
            want.put("proj.weight", Shape.of(d.hidden, d.heads * d.dv));
            assertEquals(want, attn, d.toString());
        }
    }

    /**
     * The decode program's cache is the latent (after its norm) and the shared RoPE key per token, no
     * per-head keys or values, and {@code count}'s kv-cache bytes per token are exactly its size.
     */
    @Test
    void decodeCacheHoldsOnlyLatentAndRopeKeyAndCountReportsIt() {
        Config c = ConfigLoader.parse("""
                {"model_dim": 32, "seq_len": 16, "vocab_size": 40,
                 "blocks": [{"type": "mla", "heads": 4, "kv_lora_rank": 12, "qk_rope_head_dim": 4, "q_lora_rank": 6},
                            {"type": "plain", "heads": 4, "kv_heads": 2}, {"type": "mlp"},
                            {"type": "mla", "heads": 2, "qk_nope_head_dim": 8, "qk_rope_head_dim": 2, "v_head_dim": 6, "kv_lora_rank": 5}],
                 "training": {"batch_tokens": 32}}
                """, "cache.json");
        int batch = 3;
        Program dec = Programs.decode(c, batch, 1);
        Map<String, Shape> state = new TreeMap<>();
        long floats = 0;
        for (Value s : dec.state()) {
            state.put(s.name(), s.shape());
            floats += s.shape().size();
        }
        // mla: [c_kv | k_rope] per token (kv_lora_rank + qk_rope_head_dim); plain: k and v per kv head
        Map<String, Shape> want = new TreeMap<>(Map.of(
                "cache.blocks.0.attn.kv_latent", Shape.of(batch, 16, 1, 12 + 4),
                "cache.blocks.1.attn.k", Shape.of(batch, 16, 2, 8), "cache.blocks.1.attn.v", Shape.of(batch, 16, 2, 8),
                "cache.blocks.3.attn.kv_latent", Shape.of(batch, 16, 1, 5 + 2)));
        assertEquals(want, state);
        // both decode forms: the one-token step (absorbed) and a prefill (up-projection) keep the same cache
        Map<String, Shape> prefill = new TreeMap<>();
        for (Value s : Programs.decode(c, batch, 5).state()) prefill.put(s.name(), s.shape());
        assertEquals(want, prefill);
        ModelReport r = ModelReport.of(c);
        assertEquals(4 * floats / (batch * 16), r.kvCacheBytesPerToken());
        assertEquals(4 * ((12 + 4) + 2 * 2 * 8 + (5 + 2)), r.kvCacheBytesPerToken());
        // MHA with the same heads and head widths: every head's key (nope + rope) and value
        assertEquals(4 * (4 * ((8 + 4) + 8) + 2 * 4 * 8 + 2 * ((8 + 2) + 6)), r.mhaKvCacheBytesPerToken());
    }

    /** DeepSeek-V2's published shapes: 576 cached floats per token and layer against MHA's 128·(192 + 128). */
    @Test
    void deepSeekV2CacheSizes() {
        MlaBlock m = new MlaBlock(128, 512, 1536, 128, 64, 128, dev.mixlab.config.Activation.SILU, dev.mixlab.config.FfnType.SWIGLU, 1, 1);
        assertEquals(576, ModelReport.cacheFloatsPerToken(m));
        assertEquals(128 * (192 + 128), ModelReport.mhaCacheFloatsPerToken(m));
    }
}
