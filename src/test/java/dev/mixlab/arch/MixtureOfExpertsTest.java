package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.MoeBlock;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The mixture-of-experts layer against a dense hand computation in double: every expert run on every
 * token, masked by the routing (top-k, renormalised gates, first-come capacity), and the
 * load-balancing loss written out from its definition.
 */
class MixtureOfExpertsTest {
    static final int B = 2, T = 5, D = 8, E = 4;

    static Config config(String router, int topK, double capacity, int shared, String ffn) {
        return ConfigLoader.parse("""
                {"model_dim": 8, "seq_len": 5, "vocab_size": 16, "training": {"batch_tokens": 10},
                 "blocks": [{"type": "moe", "heads": 2, "experts": 4, "top_k": %d, "router": "%s", "capacity_factor": %s,
                             "shared_experts": %d, "expert_ffn": "%s", "expert_mult": 1.5, "activation": "relu2",
                             "aux_loss_coef": 0.03}]}""".formatted(topK, router, capacity, shared, ffn), "moe.json");
    }

    record Layer(Program program, Map<String, double[]> values) {}

    /** The MoE FFN alone on a parameter input x[B,T,D], in a training context (so the aux loss is emitted). */
    static Layer layer(Config c) {
        ProgramBuilder b = new ProgramBuilder("moe");
        Value x = b.param("x", Shape.of(B, T, D), Init.zeros());
        ModelContext ctx = new ModelContext(b, c, true, null, B, null);
        Value y = MixtureOfExperts.apply(ctx, "m", x, (MoeBlock) c.layers().get(0), 0);
        RouterTap tap = ctx.routers().get(0);
        b.output("y", y);
        b.output("aux", tap.auxLoss());
        b.output("load", tap.load());
        b.output("dropped", tap.dropped());
        Program p = b.build();
        Random r = new Random(42);
        Map<String, double[]> v = new LinkedHashMap<>();
        for (Value w : p.params()) {
            double[] a = new double[w.shape().intSize()];
            for (int i = 0; i < a.length; i++) a[i] = (float) (0.5 * r.nextGaussian());   // float-exact
            v.put(w.name(), a);
        }
        return new Layer(p, v);
    }

    static Map<String, double[]> run(Layer l, Backend backend) {
        try (Executable e = backend.compile(l.program)) {
            l.values.forEach((n, a) -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
                e.setFloats(n, f);
            });
            e.run();
            Map<String, double[]> out = new LinkedHashMap<>();
            for (String n : new String[] {"y", "aux", "load", "dropped"}) out.put(n, e.getDoubles(n));
            return out;
        }
    }

    /** y[n] = Σ_e kept[n,e]·gate[n,e]·expert_e(x[n]) + shared(x[n]), every expert computed densely on every token. */
    static Map<String, double[]> dense(Config c, Map<String, double[]> v) {
        MoeBlock m = (MoeBlock) c.layers().get(0);
        int n = B * T, k = m.topK(), h = (int) Math.round(D * m.expertMult());
        boolean sigmoid = m.router() == dev.mixlab.config.RouterType.SIGMOID;
        boolean swiglu = m.expertFfn() == dev.mixlab.config.FfnType.SWIGLU;
        double[] x = v.get("x"), wr = v.get("m.router.weight");
        int cap = m.capacity(n);
        double[] y = new double[n * D], load = new double[E], psum = new double[E];
        int[] filled = new int[E];
        int dropped = 0;
        for (int t = 0; t < n; t++) {
            double[] logit = new double[E], aff = new double[E];
            for (int e = 0; e < E; e++) for (int i = 0; i < D; i++) logit[e] += x[t * D + i] * wr[e * D + i];
            double mx = Arrays.stream(logit).max().orElseThrow(), z = 0;
            for (int e = 0; e < E; e++) z += Math.exp(logit[e] - mx);
            for (int e = 0; e < E; e++) aff[e] = sigmoid ? 1 / (1 + Math.exp(-logit[e])) : Math.exp(logit[e] - mx) / z;
            double asum = Arrays.stream(aff).sum();
            for (int e = 0; e < E; e++) psum[e] += sigmoid ? aff[e] / asum : aff[e];
            Integer[] order = {0, 1, 2, 3};
            Arrays.sort(order, (a, bb) -> aff[a] != aff[bb] ? Double.compare(aff[bb], aff[a]) : Integer.compare(a, bb));
            double gsum = 0;
            for (int j = 0; j < k; j++) gsum += aff[order[j]];
            for (int j = 0; j < k; j++) {
                int e = order[j];
                load[e]++;
                if (cap > 0 && filled[e] >= cap) { dropped++; continue; }
                filled[e]++;
                double g = aff[e] / gsum;
                double[] out = ffn(v, "m.experts", e, E, x, t, h, swiglu);
                for (int i = 0; i < D; i++) y[t * D + i] += g * out[i];
            }
            for (int s = 0; s < m.sharedExperts(); s++) {
                // the shared experts are one dense FFN of shared·width: a single "expert" of that width
                double[] out = ffn(v, "m.shared", 0, 1, x, t, h * m.sharedExperts(), swiglu);
                for (int i = 0; i < D; i++) y[t * D + i] += out[i];
            }
        }
        double aux = 0;
        for (int e = 0; e < E; e++) aux += load[e] / n * psum[e] / n;   // f_e = share of tokens choosing e (Σ f = k)
        aux *= m.auxLossCoef() * E;
        return Map.of("y", y, "aux", new double[] {aux}, "load", load, "dropped", new double[] {dropped});
    }

    /** Expert e's FFN on token t with weights stacked [E,out,in] (SwiGLU: silu(gate)·up → proj; else relu² MLP). */
    static double[] ffn(Map<String, double[]> v, String name, int e, int experts, double[] x, int t, int h, boolean swiglu) {
        double[] hid = new double[h], out = new double[D];
        double[] w1 = v.get(name + (swiglu ? ".gate.weight" : ".fc.weight")), wu = v.get(name + ".up.weight"), wp = v.get(name + ".proj.weight");
        for (int j = 0; j < h; j++) {
            double a = 0, u = 0;
            for (int i = 0; i < D; i++) {
                a += x[t * D + i] * w1[(e * h + j) * D + i];
                if (swiglu) u += x[t * D + i] * wu[(e * h + j) * D + i];
            }
            hid[j] = swiglu ? a / (1 + Math.exp(-a)) * u : a > 0 ? a * a : 0;
        }
        for (int i = 0; i < D; i++) for (int j = 0; j < h; j++) out[i] += hid[j] * wp[(e * D + i) * h + j];
        return out;
    }

    @ParameterizedTest(name = "{0} top{1} capacity {2} shared {3} {4}")
    @CsvSource({"softmax, 2, 0, 0, swiglu", "softmax, 2, 0, 1, swiglu", "sigmoid, 2, 0, 0, mlp", "softmax, 1, 0, 1, mlp",
            "softmax, 2, 0.5, 0, swiglu", "sigmoid, 3, 0.6, 1, swiglu"})
    void groupedExpertsEqualDenseExpertsMaskedByRouting(String router, int topK, double capacity, int shared, String ffn) {
        Config c = config(router, topK, capacity, shared, ffn);
        Layer l = layer(c);
        Map<String, double[]> want = dense(c, l.values);
        if (capacity > 0) assertTrue(want.get("dropped")[0] > 0, "the capacity must bite for this case to mean anything");
        Map<String, double[]> ref = run(l, new ReferenceBackend()), cpu = run(l, new CpuBackend());
        for (String n : want.keySet()) {
            assertArrayEquals(want.get(n), ref.get(n), 1e-12, "reference " + n);
            double[] w = want.get(n), g = cpu.get(n);
            for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], 1e-5 * (1 + Math.abs(w[i])), "cpu " + n + "[" + i + "]");
        }
    }
}
