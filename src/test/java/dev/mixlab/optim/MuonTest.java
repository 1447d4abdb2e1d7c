package dev.mixlab.optim;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.Optimizer;
import dev.mixlab.config.ParamGroup;
import dev.mixlab.config.TrainSpec;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.IrException;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import dev.mixlab.train.Programs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Muon against plain float64 loops written from the seed's code; param-group routing; schedules. */
class MuonTest {

    static TrainSpec spec(List<ParamGroup> groups, double lr, double gradClip) {
        TrainSpec t = ConfigLoader.parse("{\"model_dim\": 8, \"seq_len\": 4, \"blocks\": [{\"type\": \"mlp\"}],"
                + " \"training\": {\"lr\": " + lr + ", \"grad_clip\": " + gradClip + ", \"batch_tokens\": 8}}", "t.json").training();
        return new TrainSpec(t.steps(), t.lr(), t.minLr(), t.schedule(), t.warmupSteps(), t.batchTokens(), t.optimizer(),
                t.beta1(), t.beta2(), t.eps(), t.weightDecay(), t.gradClip(), t.seed(), t.valEverySteps(), t.valTokens(),
                t.logEverySteps(), t.timeBudgetSeconds(), 0, 0, 1, t.sampler(), 0.95, 0.85, 500, 5, groups, t.precision());
    }

    /** The seed's zeropower_newtonschulz5 in float64, by loops. */
    static double[][] ns5(double[][] g, int steps) {
        double a = 3.4445, b = -4.7750, c = 2.0315;
        double ss = 0;
        for (double[] row : g) for (double v : row) ss += v * v;
        double inv = 1 / (Math.sqrt(ss) + 1e-7);
        double[][] x = new double[g.length][g[0].length];
        for (int i = 0; i < g.length; i++) for (int j = 0; j < g[0].length; j++) x[i][j] = g[i][j] * inv;
        boolean tr = x.length > x[0].length;
        if (tr) x = transpose(x);
        for (int s = 0; s < steps; s++) {
            double[][] am = mm(x, transpose(x));
            double[][] aa = mm(am, am);
            double[][] bm = new double[am.length][am.length];
            for (int i = 0; i < am.length; i++) for (int j = 0; j < am.length; j++) bm[i][j] = b * am[i][j] + c * aa[i][j];
            double[][] bx = mm(bm, x);
            for (int i = 0; i < x.length; i++) for (int j = 0; j < x[0].length; j++) x[i][j] = a * x[i][j] + bx[i][j];
        }
        return tr ? transpose(x) : x;
    }

    static double[][] transpose(double[][] m) {
        double[][] t = new double[m[0].length][m.length];
        for (int i = 0; i < m.length; i++) for (int j = 0; j < m[0].length; j++) t[j][i] = m[i][j];
        return t;
    }

    static double[][] mm(double[][] x, double[][] y) {
        double[][] z = new double[x.length][y[0].length];
        for (int i = 0; i < x.length; i++)
            for (int k = 0; k < y.length; k++)
                for (int j = 0; j < y[0].length; j++) z[i][j] += x[i][k] * y[k][j];
        return z;
    }

    static double[][] rows(double[] flat, int r, int c) {
        double[][] m = new double[r][c];
        for (int i = 0; i < r; i++) System.arraycopy(flat, i * c, m[i], 0, c);
        return m;
    }

    static double[] randn(Random rnd, int n, double std) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian() * std;
        return v;
    }

    /** Three Muon steps with momentum warmup values fed as the program's scalar input, CPU float32 and the float64 reference backend. */
    @Test
    void muonStepsMatchPlainLoops() {
        for (int[] rc : new int[][] {{6, 10}, {12, 5}, {7, 7}}) {
            int r = rc[0], c = rc[1];
            double matrixLr = 0.04, lr = 1e-3;
            List<ParamGroup> groups = List.of(new ParamGroup("m", List.of("*"), "2", null, Optimizer.MUON, matrixLr, 0.9, 0.95, 1e-8, 0));
            TrainSpec t = spec(groups, lr, 0);
            ProgramBuilder b = new ProgramBuilder("muon");
            Value p = b.param("w", Shape.of(r, c), Init.zeros(), "matrix");
            Value g = b.input("g", TensorType.f32(Shape.of(r, c)));
            Value lrIn = b.input(OptimizerEmitter.LR, TensorType.f32(Shape.SCALAR));
            Value stepIn = b.input(OptimizerEmitter.STEP, TensorType.f32(Shape.SCALAR));
            Map<Value, Value> grads = new LinkedHashMap<>();
            grads.put(p, g);
            OptimizerEmitter.emit(b, t, grads, lrIn, stepIn);
            Program prog = b.build();
            Random rnd = new Random(r * 31 + c);
            double[] p0 = randn(rnd, r * c, 0.1);
            double[][] gs = {randn(rnd, r * c, 1), randn(rnd, r * c, 0.5), randn(rnd, r * c, 2)};
            double[] mus = {t.muonMomentumAt(0), t.muonMomentumAt(1), t.muonMomentumAt(250)};
            double[] mul = {1.0, 0.5, 0.25};
            // reference: the seed's Muon.step
            double[] pr = p0.clone(), buf = new double[r * c];
            double scale = Math.sqrt(Math.max(1.0, (double) r / c));
            for (int s = 0; s < 3; s++) {
                double[] geff = new double[r * c];
                for (int i = 0; i < r * c; i++) {
                    buf[i] = mus[s] * buf[i] + gs[s][i];
                    geff[i] = gs[s][i] + mus[s] * buf[i];
                }
                double[][] o = ns5(rows(geff, r, c), 5);
                for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) pr[i * c + j] -= matrixLr * mul[s] * o[i][j] * scale;
            }
            for (var backend : List.of(new CpuBackend(), new ReferenceBackend())) {
                try (Executable e = backend.compile(prog)) {
                    e.setDoubles("w", p0);
                    for (int s = 0; s < 3; s++) {
                        e.setDoubles("g", gs[s]);
                        e.setFloats(OptimizerEmitter.LR, new float[] {(float) (lr * mul[s])});
                        e.setFloats(OptimizerEmitter.STEP, new float[] {s + 1});
                        e.setFloats(OptimizerEmitter.MUON_MOMENTUM, new float[] {(float) mus[s]});
                        e.run();
                    }
                    double[] got = e.getDoubles("w");
                    double tol = backend instanceof CpuBackend ? 2e-5 : 1e-6;  // float32 inputs (momentum, lr) bound the reference too
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(pr[i], got[i], tol, backend.name() + " " + r + "x" + c + " element " + i);
                    }
                }
            }
        }
        assertEquals(0.85, spec(List.of(), 1e-3, 0).muonMomentumAt(0), 1e-12);
        assertEquals(0.9, spec(List.of(), 1e-3, 0).muonMomentumAt(250), 1e-12);
        assertEquals(0.95, spec(List.of(), 1e-3, 0).muonMomentumAt(900), 1e-12);
    }

    static final String GOLF = """
            {"model_dim": 16, "seq_len": 8, "tie_embeddings": %s, "norm_type": "rmsnorm",
             "blocks": [{"type": "plain", "heads": 2, "repeat": 2}],
             "training": {"optimizer": "muon", "batch_tokens": 16%s}}
            """;

    @Test
    void defaultGroupsReproduceTheSeedSplit() {
        Config c = ConfigLoader.parse(GOLF.formatted("false", ""), "g.json");
        Program p = Programs.trainStep(c, Programs.batch(c));
        Map<Value, ParamGroup> route = OptimizerEmitter.route(c.training().paramGroups(), p.params());
        Map<String, String> byName = new LinkedHashMap<>();
        route.forEach((v, g) -> byName.put(v.name(), g.name() + "/" + g.optimizer().jsonName() + "/" + g.lr()));
        assertEquals("embed/adam/0.05", byName.get("tok_emb.weight"));
        assertEquals("embed/adam/0.05", byName.get("pos_emb.weight"));
        assertEquals("head/adam/0.008", byName.get("lm_head.weight"));
        assertEquals("matrix/muon/0.04", byName.get("blocks.0.attn.q.weight"));
        assertEquals("matrix/muon/0.04", byName.get("blocks.1.mlp.proj.weight"));
        assertEquals("scalar/adam/0.04", byName.get("blocks.0.attn_norm.weight"));
        assertEquals("scalar/adam/0.04", byName.get("final_norm.weight"));
        // every parameter is routed; the muon momentum is a program input
        assertEquals(p.params().size(), route.size());
        assertTrue(p.inputs().stream().anyMatch(v -> v.name().equals(OptimizerEmitter.MUON_MOMENTUM)));

        // control tensors: by tag, or by the seed's name patterns, even when rank 2
        ProgramBuilder b = new ProgramBuilder("x");
        Value tagged = b.param("blocks.0.gate", Shape.of(4), Init.zeros(), "control");
        Value named = b.param("blocks.0.resid_mix", Shape.of(2, 4), Init.zeros());
        Value skip = b.param("skip_weights", Shape.of(3, 4), Init.zeros());
        Value mat = b.param("blocks.3.attn.k.weight", Shape.of(4, 4), Init.zeros(), "matrix");
        Value other = b.param("extra.weight", Shape.of(4, 4), Init.zeros(), "matrix");
        Map<Value, ParamGroup> r = OptimizerEmitter.route(c.training().paramGroups(), List.of(tagged, named, skip, mat, other));
        assertEquals("control", r.get(tagged).name());
        assertEquals("control_names", r.get(named).name());
        assertEquals("control_names", r.get(skip).name());
        assertEquals("matrix", r.get(mat).name());
        assertEquals(Optimizer.ADAM, r.get(other).optimizer()); // not a block matrix: Adam, as the seed leaves it out of Muon
    }

    @Test
    void customGroupsRegexRankAndErrors() {
        Config c = ConfigLoader.parse(GOLF.formatted("true", """
                , "lr": 0.01, "param_groups": [
                  {"name": "qk", "match": "/attn\\\\.(q|k)\\\\./", "optimizer": "muon", "lr": 0.02},
                  {"name": "mats", "match": ["blocks.*", "tok_emb.weight"], "rank": ">=2", "optimizer": "adamw", "weight_decay": 0.1},
                  {"name": "rest", "optimizer": "sgd"}]"""), "c.json");
        Program p = Programs.trainStep(c, Programs.batch(c));
        Map<String, ParamGroup> by = new LinkedHashMap<>();
        OptimizerEmitter.route(c.training().paramGroups(), p.params()).forEach((v, g) -> by.put(v.name(), g));
        assertEquals("qk", by.get("blocks.1.attn.k.weight").name());
        assertEquals(0.02, by.get("blocks.1.attn.k.weight").lr());
        assertEquals("mats", by.get("blocks.1.attn.v.weight").name());
        assertEquals(0.1, by.get("tok_emb.weight").weightDecay());
        assertEquals(0.01, by.get("tok_emb.weight").lr());            // lr defaults to the section's
        assertEquals("rest", by.get("blocks.0.attn_norm.weight").name());
        assertEquals(Optimizer.SGD, by.get("pos_emb.weight").optimizer()); // the match array has no pos_emb

        Config orphan = ConfigLoader.parse(GOLF.formatted("true", ", \"param_groups\": [{\"match\": \"blocks.*\", \"rank\": \"2\"}]"), "o.json");
        IrException e = assertThrows(IrException.class, () -> Programs.trainStep(orphan, 2));
        assertTrue(e.getMessage().contains("tok_emb.weight") && e.getMessage().contains("\"match\": \"*\""), e.getMessage());
        Config vec = ConfigLoader.parse(GOLF.formatted("true", ", \"param_groups\": [{\"match\": \"*\"}]"), "v.json");
        e = assertThrows(IrException.class, () -> Programs.trainStep(vec, 2));
        assertTrue(e.getMessage().contains("rank-2"), e.getMessage());
    }

    @Test
    void warmdownByStepsAndByWallclock() {
        // seed: iterations 10, warmdown 4 -> 1 until step 6, then (10 - step) / 4
        double[] want = {1, 1, 1, 1, 1, 1, 1.0, 0.75, 0.5, 0.25};
        for (int s = 0; s < 10; s++) assertEquals(want[s], LrSchedule.warmdownMul(10, 4, s), 1e-12, "step " + s);
        assertEquals(1.0, LrSchedule.warmdownMul(10, 0, 9));
        assertEquals(0.05, LrSchedule.warmdownMul(10, 20, 9), 1e-12);  // longer than the run: starts at once, (10-9)/20
        Config c = ConfigLoader.parse("{\"model_dim\": 8, \"seq_len\": 4, \"blocks\": [{\"type\": \"mlp\"}], \"training\":"
                + " {\"steps\": 10, \"lr\": 0.5, \"schedule\": \"warmdown\", \"warmdown_steps\": 4, \"batch_tokens\": 8}}", "w.json");
        for (int s = 0; s < 10; s++) assertEquals(0.5 * want[s], LrSchedule.at(c.training(), s), 1e-12);
        // wall clock: 100 s budget, 10 warmdown steps; at step 50 after 80 s a step takes 1.6 s,
        // warmdown lasts 16 s, 20 s are left: multiplier 1; after 90 s (1.8 s/step, 18 s): 10/18
        assertEquals(1.0, LrSchedule.wallclockMul(10, 100, 50, 80), 1e-12);
        assertEquals(10.0 / 18, LrSchedule.wallclockMul(10, 100, 50, 90), 1e-12);
        assertEquals(0.0, LrSchedule.wallclockMul(10, 100, 60, 120), 1e-12);
        assertEquals(1.0, LrSchedule.wallclockMul(10, 100, 0, 0), 1e-12);
        Config w = ConfigLoader.parse("{\"model_dim\": 8, \"seq_len\": 4, \"blocks\": [{\"type\": \"mlp\"}], \"training\":"
                + " {\"steps\": 1000, \"lr\": 0.5, \"schedule\": \"warmdown\", \"warmdown_steps\": 10,"
                + " \"max_wallclock_seconds\": 100, \"batch_tokens\": 8}}", "w.json");
        assertEquals(0.5 * 10.0 / 18, LrSchedule.at(w.training(), 50, 90), 1e-12);
        assertEquals(0.5, LrSchedule.at(w.training(), 995, 10), 1e-12);  // by the clock, not by the step count
        // existing schedules are unchanged
        Config cos = ConfigLoader.parse("{\"model_dim\": 8, \"seq_len\": 4, \"blocks\": [{\"type\": \"mlp\"}], \"training\":"
                + " {\"steps\": 10, \"lr\": 1, \"warmup_steps\": 2, \"batch_tokens\": 8}}", "c.json");
        assertEquals(0.5, LrSchedule.at(cos.training(), 0), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 3 / 8)), LrSchedule.at(cos.training(), 5, 1e9), 1e-12);
    }
}
