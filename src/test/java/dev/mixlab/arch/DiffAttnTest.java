package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential attention against the paper's formulas, with weights in the official code's layout
 * ({@code q_proj}, {@code k_proj}, {@code v_proj}, {@code out_proj}, {@code lambda_*}, {@code subln}):
 * a direct float64 loop implementation here, and the PyTorch golden of {@code reference/torch_diff_attn.py}.
 */
class DiffAttnTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/diff_attn.json");

    @Test
    void lambdaInitIsThePapersSchedule() {
        assertEquals(0.2, DiffAttention.lambdaInit(0), 1e-15);                  // the paper's l = 1
        assertEquals(0.8 - 0.6 * Math.exp(-0.9), DiffAttention.lambdaInit(3), 1e-15);
    }

    @Test
    void matchesADirectImplementationOfThePaper() {
        int bsz = 2, t = 7, dm = 24, h = 3, depth = 4;
        Random r = new Random(11);
        Map<String, double[]> w = new HashMap<>();
        for (String k : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) w.put(k, gaussian(r, dm * dm, 0.3));
        int d = dm / h / 2;
        for (String k : new String[] {"lambda_q1", "lambda_k1", "lambda_q2", "lambda_k2"}) w.put(k, gaussian(r, d, 0.5));
        double[] g = gaussian(r, 2 * d, 0.2);
        for (int i = 0; i < g.length; i++) g[i] += 1;
        w.put("subln_weight", g);
        double[] x = gaussian(r, bsz * t * dm, 1);
        double[] want = paper(x, w, bsz, t, dm, h, depth, 1e-5);
        double[] got = mixlab(x, w, bsz, t, dm, h, depth);
        assertArrayEquals(want, got, 1e-12);
        // the learned λ matters: flipping a λ vector changes the output
        w.put("lambda_q2", java.util.Arrays.stream(w.get("lambda_q2")).map(v -> -v).toArray());
        assertFalse(java.util.Arrays.equals(got, mixlab(x, w, bsz, t, dm, h, depth)));
    }

    @Test
    void matchesThePyTorchGolden() throws Exception {
        assertTrue(Files.exists(GOLDEN), "run reference/torch_diff_attn.py on a machine with PyTorch (writes " + GOLDEN + ")");
        JsonNode j = new ObjectMapper().readTree(GOLDEN.toFile());
        Map<String, double[]> w = new HashMap<>();
        j.get("weights").properties().forEach(e -> w.put(e.getKey(), doubles(e.getValue())));
        int bsz = j.get("batch").asInt(), t = j.get("seq_len").asInt(), dm = j.get("model_dim").asInt(), h = j.get("heads").asInt();
        assertEquals(DiffAttention.lambdaInit(j.get("depth").asInt()), j.get("lambda_init").asDouble(), 1e-15);
        double[] got = mixlab(doubles(j.get("x")), w, bsz, t, dm, h, j.get("depth").asInt());
        assertArrayEquals(doubles(j.get("y")), got, 1e-9);
    }

    @Test
    void configErrorsNameTheFieldAndTheFix() {
        String base = "{\"model_dim\": 24, \"seq_len\": 8, \"positional_embedding\": \"%s\", \"blocks\": [{\"type\": \"plain\", %s,"
                + " \"differential\": true}], \"training\": {\"batch_tokens\": 16}}";
        String[][] bad = {{"rope", "\"heads\": 4", "head_dim divisible by 4"}, {"none", "\"heads\": 8", "head_dim divisible by 2"},
                {"rope", "\"heads\": 2, \"kv_heads\": 1", "remove kv_heads"}, {"none", "\"heads\": 2, \"alibi\": true", "remove alibi"}};
        for (String[] b : bad) {
            var e = assertThrows(dev.mixlab.config.ConfigException.class, () -> ConfigLoader.parse(base.formatted(b[0], b[1]), "d.json"));
            assertEquals("/blocks/0/differential", e.path(), e.getMessage());
            assertTrue(e.getMessage().contains(b[2]), e.getMessage());
        }
        assertTrue(((PlainBlock) ConfigLoader.parse(base.formatted("rope", "\"heads\": 2"), "d.json").layers().getFirst()).differential());
    }

    /** The official forward, written out in loops (no mixlab code): see reference/torch_diff_attn.py. */
    static double[] paper(double[] x, Map<String, double[]> w, int bsz, int t, int dm, int h, int depth, double eps) {
        int d = dm / h / 2;
        double[] q = linear(x, w.get("q_proj"), bsz * t, dm, dm), k = linear(x, w.get("k_proj"), bsz * t, dm, dm);
        double[] v = linear(x, w.get("v_proj"), bsz * t, dm, dm);
        double lambdaInit = 0.8 - 0.6 * Math.exp(-0.3 * depth);
        double lambda = Math.exp(dot(w.get("lambda_q1"), w.get("lambda_k1"))) - Math.exp(dot(w.get("lambda_q2"), w.get("lambda_k2"))) + lambdaInit;
        double[] heads = new double[bsz * t * dm];
        for (int b = 0; b < bsz; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < t; i++) {
                    double[] a = new double[t];
                    for (int s = 0; s < 2; s++) {
                        int qh = 2 * hh + s;   // q/k viewed [B, T, 2H, d]
                        double[] sc = new double[i + 1];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int jj = 0; jj <= i; jj++) {
                            double acc = 0;
                            for (int e = 0; e < d; e++) acc += q[(b * t + i) * dm + qh * d + e] * k[(b * t + jj) * dm + qh * d + e];
                            sc[jj] = acc / Math.sqrt(d);
                            max = Math.max(max, sc[jj]);
                        }
                        for (int jj = 0; jj <= i; jj++) sum += sc[jj] = Math.exp(sc[jj] - max);
                        for (int jj = 0; jj <= i; jj++) a[jj] += (s == 0 ? 1 : -lambda) * sc[jj] / sum;
                    }
                    double[] o = new double[2 * d];   // v viewed [B, T, H, 2d]
                    for (int jj = 0; jj <= i; jj++) for (int e = 0; e < 2 * d; e++) o[e] += a[jj] * v[(b * t + jj) * dm + hh * 2 * d + e];
                    double ms = 0;
                    for (double oe : o) ms += oe * oe / (2 * d);
                    for (int e = 0; e < 2 * d; e++) {
                        heads[(b * t + i) * dm + hh * 2 * d + e] = o[e] / Math.sqrt(ms + eps) * w.get("subln_weight")[e] * (1 - lambdaInit);
                    }
                }
            }
        }
        return linear(heads, w.get("out_proj"), bsz * t, dm, dm);
    }

    /** mixlab's differential attention sub-layer (layer {@code depth}) on the reference backend, with the paper's weights mapped in. */
    static double[] mixlab(double[] x, Map<String, double[]> w, int bsz, int t, int dm, int h, int depth) {
        Config c = ConfigLoader.parse("{\"model_dim\": " + dm + ", \"seq_len\": " + t + ", \"positional_embedding\": \"none\","
                + " \"blocks\": [{\"type\": \"plain\", \"heads\": " + h + ", \"differential\": true}], \"training\": {\"batch_tokens\": "
                + bsz * t + "}}", "diff.json");
        PlainBlock pb = (PlainBlock) c.layers().getFirst();
        ProgramBuilder b = new ProgramBuilder("diff");
        Value in = b.input("x", TensorType.f32(Shape.of(bsz, t, dm)));
        b.output("y", DiffAttention.apply(new ModelContext(b, c, false, null, bsz, null), "attn", in, pb, depth));
        int d = dm / h / 2;
        Map<String, double[]> ours = new HashMap<>();
        // q1/q2 (k1/k2) are the rows of q_proj (k_proj) for the paper's heads 2h and 2h+1
        for (String p : new String[] {"q", "k"}) {
            for (int s = 0; s < 2; s++) {
                double[] rows = new double[h * d * dm], src = w.get(p + "_proj");
                for (int hh = 0; hh < h; hh++) System.arraycopy(src, (2 * hh + s) * d * dm, rows, hh * d * dm, d * dm);
                ours.put("attn." + p + (s + 1) + ".weight", rows);
            }
        }
        ours.put("attn.v.weight", w.get("v_proj"));
        ours.put("attn.proj.weight", w.get("out_proj"));
        ours.put("attn.subln.weight", w.get("subln_weight"));
        for (String l : new String[] {"q1", "k1", "q2", "k2"}) ours.put("attn.lambda_" + l, w.get("lambda_" + l));
        var prog = b.build();
        assertEquals(ours.keySet(), new java.util.HashSet<>(prog.params().stream().map(Value::name).toList()));
        try (Executable e = new ReferenceBackend().compile(prog)) {
            ours.forEach(e::setDoubles);
            e.setDoubles("x", x);
            e.run();
            return e.getDoubles("y");
        }
    }

    static double[] linear(double[] x, double[] wt, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) for (int o = 0; o < out; o++) {
            double acc = 0;
            for (int i = 0; i < in; i++) acc += x[r * in + i] * wt[o * in + i];
            y[r * out + o] = acc;
        }
        return y;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] gaussian(Random r, int n, double std) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = std * r.nextGaussian();
        return v;
    }

    static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }
}
