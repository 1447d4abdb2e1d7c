package dev.mixlab.autodiff;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.*;
import java.util.*;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference gradient checks in float64 for every differentiable op, through the real
 * autodiff transform and the reference interpreter. {@link #everyOpIsCovered} enumerates the op
 * catalogue, so an op added without a case here fails the build.
 */
class GradCheckTest {
    /** A case: float leaves (differentiated), int leaves, and the op applied to them. */
    record Case(String name, Map<String, Shape> floats, Map<String, int[]> ints, Map<String, Shape> intShapes,
                BiFunction<ProgramBuilder, Map<String, Value>, Value> body) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case c(String name, Map<String, Shape> floats, BiFunction<ProgramBuilder, Map<String, Value>, Value> body) {
        return new Case(name, floats, Map.of(), Map.of(), body);
    }

    static Case ci(String name, Map<String, Shape> floats, Map<String, Shape> intShapes, Map<String, int[]> ints,
                   BiFunction<ProgramBuilder, Map<String, Value>, Value> body) {
        return new Case(name, floats, ints, intShapes, body);
    }

    static Map<String, Shape> f(Object... kv) {
        Map<String, Shape> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Shape) kv[i + 1]);
        return m;
    }

    static Shape s(int... d) {
        return Shape.of(d);
    }

    static Stream<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(ci("embedding", f("table", s(7, 5)), Map.of("ids", s(2, 3)), Map.of("ids", new int[] {0, 3, 6, 3, 1, 0}),
                (b, v) -> b.embedding(v.get("table"), v.get("ids"))));
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Shape a = ta ? s(2, 3, 4) : s(2, 3, 5);   // stored [K..,M] or [M..,K], K=5 or K=6
                Shape bs = ta ? (tb ? s(7, 6) : s(6, 7)) : (tb ? s(7, 5) : s(5, 7));
                cs.add(c("matmul ta=" + ta + " tb=" + tb, f("a", a, "b", bs), (b, v) -> b.matmul(v.get("a"), v.get("b"), ta, tb)));
            }
        }
        cs.add(c("add", f("a", s(3, 4), "b", s(3, 4)), (b, v) -> b.add(v.get("a"), v.get("b"))));
        cs.add(c("add broadcast", f("a", s(2, 3, 4), "b", s(3, 4)), (b, v) -> b.add(v.get("a"), v.get("b"))));
        cs.add(c("mul", f("a", s(3, 4), "b", s(3, 4)), (b, v) -> b.mul(v.get("a"), v.get("b"))));
        cs.add(c("mul broadcast", f("a", s(2, 3, 4), "b", s(4)), (b, v) -> b.mul(v.get("a"), v.get("b"))));
        cs.add(c("scale", f("x", s(5)), (b, v) -> b.scale(v.get("x"), -1.7)));
        cs.add(c("broadcast", f("x", s(4)), (b, v) -> b.apply1(new Broadcast(s(2, 3, 4)), v.get("x"))));
        cs.add(c("reduce_to", f("x", s(2, 3, 4)), (b, v) -> b.apply1(new ReduceTo(s(3, 4)), v.get("x"))));
        cs.add(c("expand_last", f("x", s(2, 3)), (b, v) -> b.apply1(new ExpandLast(4), v.get("x"))));
        cs.add(c("sum_last", f("x", s(2, 3, 4)), (b, v) -> b.apply1(new SumLast(), v.get("x"))));
        cs.add(c("pad_last", f("x", s(2, 3, 2, 3)), (b, v) -> b.apply1(new PadLast(1, 5, 2), v.get("x"))));
        cs.add(c("pad_last broadcast rows", f("x", s(2, 3, 1, 2)), (b, v) -> b.apply1(new PadLast(3, 5, 4), v.get("x"))));
        cs.add(c("slice_last", f("x", s(2, 3, 2, 5)), (b, v) -> b.apply1(new SliceLast(1, 3, 2), v.get("x"))));
        cs.add(c("slice_last sum rows", f("x", s(2, 3, 4, 5)), (b, v) -> b.apply1(new SliceLast(2, 3, 1), v.get("x"))));
        // concatenation of a per-head part and a part shared by all heads, as multi-head latent attention builds keys
        cs.add(c("concat per-head and shared", f("a", s(2, 3, 4, 3), "r", s(2, 3, 1, 2)), (b, v) -> b.add(
                b.apply1(new PadLast(0, 5, 4), v.get("a")), b.apply1(new PadLast(3, 5, 4), v.get("r")))));
        cs.add(c("per-head gain", f("q", s(2, 3, 4, 5), "g", s(4)),
                (b, v) -> b.mul(v.get("q"), b.apply1(new ExpandLast(5), v.get("g")))));
        for (UnaryFn fn : UnaryFn.values()) cs.add(c(fn.jsonName(), f("x", s(3, 7)), (b, v) -> b.unary(fn, v.get("x"))));
        cs.add(c("layernorm w+b", f("x", s(3, 6), "w", s(6), "bias", s(6)),
                (b, v) -> b.apply1(new LayerNorm(1e-5, true, true), v.get("x"), v.get("w"), v.get("bias"))));
        cs.add(c("layernorm w", f("x", s(3, 6), "w", s(6)), (b, v) -> b.apply1(new LayerNorm(1e-5, true, false), v.get("x"), v.get("w"))));
        cs.add(c("layernorm", f("x", s(3, 6)), (b, v) -> b.apply1(new LayerNorm(1e-5, false, false), v.get("x"))));
        cs.add(c("rmsnorm w", f("x", s(3, 6), "w", s(6)), (b, v) -> b.apply1(new RmsNorm(1e-6, true), v.get("x"), v.get("w"))));
        cs.add(c("rmsnorm", f("x", s(3, 6)), (b, v) -> b.apply1(new RmsNorm(1e-6, false), v.get("x"))));
        cs.add(c("attention gqa", f("q", s(2, 5, 4, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(c("attention gqa window", f("q", s(2, 6, 4, 3), "k", s(2, 6, 2, 3), "v", s(2, 6, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0, 2), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(c("attention gqa softcap", f("q", s(2, 5, 4, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0, 0, 0.7), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(c("attention gqa window softcap", f("q", s(2, 6, 4, 3), "k", s(2, 6, 2, 3), "v", s(2, 6, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0, 2, 0.7), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(ci("attention dropout window softcap", f("q", s(2, 5, 2, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {42}),
                (b, v) -> b.apply1(new Attention(2, 2, 0.57, 0.3, 7, 3, 1.1), v.get("q"), v.get("k"), v.get("v"), v.get("seed"))));
        cs.add(c("attention gqa alibi", f("q", s(2, 5, 4, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0, 0, 0, true), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(c("attention 3 heads window softcap alibi", f("q", s(2, 6, 3, 3), "k", s(2, 6, 3, 3), "v", s(2, 6, 3, 3)),
                (b, v) -> b.apply1(new Attention(3, 3, 0.57, 0, 0, 3, 0.7, true), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(ci("attention dropout softcap alibi", f("q", s(2, 5, 2, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {42}),
                (b, v) -> b.apply1(new Attention(2, 2, 0.57, 0.3, 7, 0, 1.1, true), v.get("q"), v.get("k"), v.get("v"), v.get("seed"))));
        cs.add(ci("attention dropout window", f("q", s(2, 5, 2, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {42}),
                (b, v) -> b.apply1(new Attention(2, 2, 0.57, 0.3, 7, 3), v.get("q"), v.get("k"), v.get("v"), v.get("seed"))));
        cs.add(ci("attention dropout", f("q", s(2, 5, 2, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 3)),
                Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {42}),
                (b, v) -> b.apply1(new Attention(2, 2, 0.57, 0.3, 7), v.get("q"), v.get("k"), v.get("v"), v.get("seed"))));
        cs.add(c("attention gqa chunk", f("q", s(2, 7, 4, 3), "k", s(2, 7, 2, 3), "v", s(2, 7, 2, 3)),
                (b, v) -> b.apply1(new Attention(4, 2, 0.57, 0, 0, 0, 0, false, 3), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(ci("attention dropout window softcap alibi chunk", f("q", s(2, 7, 2, 3), "k", s(2, 7, 2, 3), "v", s(2, 7, 2, 3)),
                Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {42}),
                (b, v) -> b.apply1(new Attention(2, 2, 0.57, 0.3, 7, 2, 1.1, true, 4), v.get("q"), v.get("k"), v.get("v"), v.get("seed"))));
        cs.add(c("rope period", f("x", s(2, 5, 2, 6)), (b, v) -> b.apply1(new Rope(100, 6, false, false, 2), v.get("x"))));
        cs.add(ci("rope period at position", f("x", s(1, 3, 2, 6)), Map.of("pos", Shape.SCALAR), Map.of("pos", new int[] {5}),
                (b, v) -> b.apply1(new Rope(100, 4, true, false, 3), v.get("x"), v.get("pos"))));
        cs.add(c("rope half", f("x", s(2, 4, 2, 6)), (b, v) -> b.apply1(new Rope(100, 6, false, false), v.get("x"))));
        cs.add(c("rope interleaved partial", f("x", s(2, 4, 2, 6)), (b, v) -> b.apply1(new Rope(100, 4, true, false), v.get("x"))));
        cs.add(ci("rope at position", f("x", s(1, 3, 2, 6)), Map.of("pos", Shape.SCALAR), Map.of("pos", new int[] {5}),
                (b, v) -> b.apply1(new Rope(100, 6, false, false), v.get("x"), v.get("pos"))));
        cs.add(ci("dropout", f("x", s(4, 6)), Map.of("seed", Shape.SCALAR), Map.of("seed", new int[] {9}),
                (b, v) -> b.apply1(new Dropout(0.4, 3), v.get("x"), v.get("seed"))));
        cs.add(c("reshape", f("x", s(2, 6)), (b, v) -> b.reshape(v.get("x"), 3, 4)));
        cs.add(c("swap_axes middle", f("x", s(2, 3, 4, 2)), (b, v) -> b.apply1(new SwapAxes(1, 2), v.get("x"))));
        cs.add(c("swap_axes outer inner", f("x", s(3, 2, 5)), (b, v) -> b.apply1(new SwapAxes(0, 2), v.get("x"))));
        cs.add(ci("cross_entropy", f("logits", s(2, 3, 5)), Map.of("t", s(2, 3)), Map.of("t", new int[] {0, 4, 2, 2, 1, 3}),
                (b, v) -> b.crossEntropy(v.get("logits"), v.get("t"))));
        cs.add(c("sum_squares", f("x", s(3, 4)), (b, v) -> b.apply1(new SumSquares(), v.get("x"))));
        // a whole mixture-of-experts FFN: routing, gates, dispatch, grouped SwiGLU experts, combine
        for (boolean sigmoid : new boolean[] {false, true}) {
            for (int cap : new int[] {0, 3}) {
                cs.add(c("moe ffn " + (sigmoid ? "sigmoid" : "softmax") + " capacity=" + cap,
                        f("x", s(7, 4), "wr", s(4, 4), "wg", s(4, 5, 4), "wu", s(4, 5, 4), "wp", s(4, 4, 5)),
                        (b, v) -> moeFfn(b, v, sigmoid, cap)));
            }
        }
        for (boolean sigmoid : new boolean[] {false, true}) {
            cs.add(c("moe_gate all " + (sigmoid ? "sigmoid" : "softmax"), f("l", s(5, 4)),
                    (b, v) -> b.apply1(new MoeGate(4, sigmoid), v.get("l"))));
        }
        int[] slot = {3, -1, 0, 4, 1, 2}, offsets = {0, 2, 2, 5};   // 3 tokens x k=2 into 6 rows, row 5 unused
        cs.add(ci("moe_dispatch gated", f("x", s(3, 4), "g", s(3, 2)), Map.of("slot", s(3, 2)), Map.of("slot", slot),
                (b, v) -> b.apply1(new MoeDispatch(6), v.get("x"), v.get("slot"), v.get("g"))));
        cs.add(ci("moe_combine ungated", f("yg", s(6, 4)), Map.of("slot", s(3, 2)), Map.of("slot", slot),
                (b, v) -> b.apply1(new MoeCombine(), v.get("yg"), v.get("slot"))));
        for (boolean tb : new boolean[] {false, true}) {
            cs.add(ci("grouped_matmul transB=" + tb, f("x", s(6, 4), "w", tb ? s(3, 5, 4) : s(3, 4, 5)),
                    Map.of("offsets", s(4)), Map.of("offsets", offsets),
                    (b, v) -> b.apply1(new GroupedMatMul(tb), v.get("x"), v.get("w"), v.get("offsets"))));
        }
        cs.add(c("retention", f("q", s(2, 5, 3, 4), "k", s(2, 5, 3, 4), "v", s(2, 5, 3, 3)),
                (b, v) -> b.apply1(new Retention(List.of(0.9, 0.6, 0.97)), v.get("q"), v.get("k"), v.get("v"))));
        cs.add(c("retention dk<dv", f("q", s(1, 7, 1, 2), "k", s(1, 7, 1, 2), "v", s(1, 7, 1, 5)),
                (b, v) -> b.apply1(new Retention(Retention.retnetGammas(1)), v.get("q"), v.get("k"), v.get("v"))));
        // the normaliser max(|nᵀq|, e^-m): large q leaves |nᵀq| above the floor, small q mixes both branches
        for (double qs : new double[] {1, 0.05}) {
            cs.add(c("mlstm q×" + qs, f("q", s(2, 6, 2, 3), "k", s(2, 6, 2, 3), "v", s(2, 6, 2, 4), "i", s(2, 6, 2), "f", s(2, 6, 2)),
                    (b, v) -> b.apply1(new Mlstm(), b.scale(v.get("q"), qs), v.get("k"), v.get("v"), b.scale(v.get("i"), 3),
                            b.scale(v.get("f"), 2))));
        }
        cs.add(c("wkv", f("r", s(2, 6, 2, 3), "k", s(2, 6, 2, 3), "v", s(2, 6, 2, 4), "w", s(2, 6, 2, 3), "u", s(2, 3)),
                (b, v) -> b.apply1(new Wkv(), v.get("r"), v.get("k"), v.get("v"), v.get("w"), v.get("u"))));
        cs.add(c("token_shift", f("x", s(2, 4, 3)), (b, v) -> b.apply1(new TokenShift(), v.get("x"))));
        cs.add(c("token_shift_reverse", f("x", s(2, 4, 3)), (b, v) -> b.apply1(new TokenShift(true, false), v.get("x"))));
        cs.add(c("causal_conv", f("x", s(2, 5, 3), "w", s(3, 4)), (b, v) -> b.apply1(new CausalConv(false), v.get("x"), v.get("w"))));
        cs.add(c("gated_delta_scan", f("q", s(2, 5, 2, 3), "k", s(2, 5, 2, 3), "v", s(2, 5, 2, 4), "g", s(2, 5, 2), "beta", s(2, 5, 2)),
                (b, v) -> b.apply1(new GatedDeltaScan(false), v.get("q"), b.scale(v.get("k"), 0.5), v.get("v"), b.scale(v.get("g"), 0.3),
                        v.get("beta"))));
        cs.add(c("ssd_scan groups", f("x", s(2, 5, 4, 3), "a", s(2, 5, 4), "bm", s(2, 5, 2, 3), "c", s(2, 5, 2, 3)),
                (b, v) -> b.apply1(new SsdScan(false), v.get("x"), b.scale(v.get("a"), 0.3), v.get("bm"), v.get("c"))));
        return cs.stream();
    }

    /** Router, top-2 of 4 experts, SwiGLU experts as grouped matmuls, gated combine. */
    static Value moeFfn(ProgramBuilder b, Map<String, Value> v, boolean sigmoid, int cap) {
        Value x = v.get("x"), logits = b.linear(x, v.get("wr"));
        int rows = MoeRoute.rows(7, 4, 2, cap);
        List<Value> r = b.apply(new MoeRoute(4, 2, sigmoid, cap, rows), logits);
        Value gates = b.apply1(new MoeGate(4, sigmoid), logits, r.get(1));
        Value xg = b.apply1(new MoeDispatch(rows), x, r.get(0));
        Value g = b.apply1(new GroupedMatMul(true), xg, v.get("wg"), r.get(2));
        Value u = b.apply1(new GroupedMatMul(true), xg, v.get("wu"), r.get(2));
        Value yg = b.apply1(new GroupedMatMul(true), b.mul(b.unary(UnaryFn.SILU, g), u), v.get("wp"), r.get(2));
        return b.apply1(new MoeCombine(), yg, r.get(0), gates);
    }

    /**
     * Ops that are not differentiated: optimizer updates and clipping (checked against PyTorch in
     * GoldenTest and against the reference in CpuKernelsTest) and the incremental-decoding ops
     * (checked by DecodeConsistencyTest: cached decoding equals the full forward pass).
     */
    static final Set<Class<?>> CHECKED_ELSEWHERE = Set.of(AdamW.class, Sgd.class, GradClip.class, NesterovMomentum.class,
            FrobeniusNormalize.class, Descend.class, PositionIds.class,
            KvWrite.class, CachedAttention.class, BiasBalance.class);
    // the cached forms of CausalConv, GatedDeltaScan and SsdScan are instances of classes covered above

    @Test
    void everyOpIsCovered() {
        Set<Class<?>> seen = new HashSet<>();
        cases().forEach(cs -> build(cs).program.nodes().forEach(n -> seen.add(n.op().getClass())));
        List<String> missing = new ArrayList<>();
        for (Class<?> op : Op.class.getPermittedSubclasses()) {
            if (!seen.contains(op) && !CHECKED_ELSEWHERE.contains(op)) missing.add(op.getSimpleName());
        }
        assertTrue(missing.isEmpty(), "ops with no gradient check (add a case to GradCheckTest): " + missing);
    }

    record Built(Program program, Map<String, Value> leaves, Value y) {}

    static Built build(Case cs) {
        ProgramBuilder b = new ProgramBuilder("gradcheck");
        Map<String, Value> v = new LinkedHashMap<>();
        cs.floats.forEach((n, sh) -> v.put(n, b.param(n, sh, Init.zeros())));
        cs.intShapes.forEach((n, sh) -> v.put(n, b.input(n, TensorType.i32(sh))));
        Value y = cs.body.apply(b, v);
        Value ct = b.input("ct", y.type());
        List<Value> wrt = b.params();
        Map<Value, Value> g = Autodiff.vjp(b, List.of(y), List.of(ct), wrt);
        b.output("y", y);
        g.forEach((p, gv) -> b.output("grad." + p.name(), gv));
        return new Built(b.build(), v, y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientMatchesFiniteDifferences(Case cs) {
        Built built = build(cs);
        Random rnd = new Random(cs.name.hashCode());
        Map<String, Tensor> leaves = new HashMap<>();
        cs.floats.forEach((n, sh) -> leaves.put(n, Tensor.of(sh, randn(rnd, sh.intSize()))));
        cs.ints.forEach((n, vals) -> leaves.put(n, Tensor.ofInts(cs.intShapes.get(n), vals)));
        double[] ct = randn(rnd, built.y.shape().intSize());
        leaves.put("ct", Tensor.of(built.y.shape(), ct));
        Map<String, Tensor> out = ReferenceInterpreter.run(built.program, leaves);
        for (String p : cs.floats.keySet()) {
            double[] x = leaves.get(p).f();
            double[] analytic = out.get("grad." + p).f();
            assertEquals(x.length, analytic.length, p);
            double scale = 1e-3;
            for (double a : analytic) scale = Math.max(scale, Math.abs(a));
            for (int i = 0; i < x.length; i++) {
                double keep = x[i], h = 1e-6;
                x[i] = keep + h;
                double plus = dot(ReferenceInterpreter.run(built.program, leaves).get("y").f(), ct);
                x[i] = keep - h;
                double minus = dot(ReferenceInterpreter.run(built.program, leaves).get("y").f(), ct);
                x[i] = keep;
                double numeric = (plus - minus) / (2 * h);
                assertEquals(numeric, analytic[i], 1e-6 * scale,
                        cs.name + ": d/d" + p + "[" + i + "] analytic " + analytic[i] + " numeric " + numeric);
            }
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] randn(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = r.nextGaussian();
            // keep pointwise kinks (relu at 0) away from the finite-difference step
            v[i] = Math.abs(x) < 1e-3 ? 0.5 : x;
        }
        return v;
    }
}
