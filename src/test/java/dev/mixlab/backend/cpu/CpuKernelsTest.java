package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.*;
import java.util.*;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op's float32 kernel against the float64 reference interpreter, on tiny odd shapes and on
 * realistic ones, plus bit-equality of multi-threaded and single-threaded runs.
 * {@link #everyOpIsCovered} enumerates the op catalogue, so an op without a case fails the build.
 */
class CpuKernelsTest {
    /** Builds one program; leaves get random non-zero values unless given. */
    static final class Ctx {
        final ProgramBuilder b = new ProgramBuilder("kernel");
        final Random rnd;
        final Map<String, float[]> floats = new LinkedHashMap<>();
        final Map<String, int[]> ints = new LinkedHashMap<>();
        float amp = 1;

        Ctx(long seed) {
            rnd = new Random(seed);
        }

        float[] random(int n, boolean positive) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                float v = amp * (0.05f + 0.95f * rnd.nextFloat());
                a[i] = positive || rnd.nextBoolean() ? v : -v;
            }
            return a;
        }

        Value p(String name, int... dims) {
            Shape s = Shape.of(dims);
            floats.put(name, random(s.intSize(), false));
            return b.param(name, s, Init.zeros());
        }

        Value scalar(String name, float v) {
            floats.put(name, new float[] {v});
            return b.param(name, Shape.SCALAR, Init.zeros());
        }

        Value state(String name, boolean positive, int... dims) {
            Shape s = Shape.of(dims);
            floats.put(name, random(s.intSize(), positive));
            return b.state(name, s, Init.zeros());
        }

        Value ids(String name, int bound, int... dims) {
            Shape s = Shape.of(dims);
            int[] v = new int[s.intSize()];
            for (int i = 0; i < v.length; i++) v[i] = rnd.nextInt(bound);
            ints.put(name, v);
            return b.input(name, TensorType.i32(s));
        }

        /** An i32 scalar input with a given value (a decode position). */
        Value fixed(String name, int v) {
            ints.put(name, new int[] {v});
            return b.input(name, TensorType.i32(Shape.SCALAR));
        }

        void out(Value... vs) {
            for (Value v : vs) b.output("out" + outCount++, v);
        }

        int outCount;
    }

    record Case(String name, double tol, Consumer<Ctx> body) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final double TOL = 1e-5;

    static Case c(String name, Consumer<Ctx> body) {
        return new Case(name, TOL, body);
    }

    static Stream<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("embedding odd", x -> x.out(x.b.embedding(x.p("t", 11, 7), x.ids("ids", 11, 3, 5)))));
        cs.add(c("embedding big", x -> x.out(x.b.embedding(x.p("t", 1000, 96), x.ids("ids", 1000, 4, 64)))));
        cs.add(c("embedding_grad odd", x -> x.out(x.b.apply1(new EmbeddingGrad(11), x.ids("ids", 6, 3, 5), x.p("dy", 3, 5, 7)))));
        cs.add(c("embedding_grad big", x -> x.out(x.b.apply1(new EmbeddingGrad(500), x.ids("ids", 300, 8, 128), x.p("dy", 8, 128, 96)))));
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int m = 5, n = 7, k = 3;
                cs.add(c("matmul ta=" + ta + " tb=" + tb, x -> x.out(x.b.matmul(
                        ta ? x.p("a", k, m) : x.p("a", m, k), tb ? x.p("b", n, k) : x.p("b", k, n), ta, tb))));
            }
        }
        cs.add(c("add", x -> x.out(x.b.add(x.p("a", 3, 37), x.p("b", 3, 37)))));
        cs.add(c("add broadcast", x -> x.out(x.b.add(x.p("a", 5, 3, 37), x.p("b", 3, 37)))));
        cs.add(c("add scalar", x -> x.out(x.b.add(x.p("a", 5, 7), x.p("b")))));
        cs.add(c("add big", x -> x.out(x.b.add(x.p("a", 64, 768), x.p("b", 768)))));
        cs.add(c("mul", x -> x.out(x.b.mul(x.p("a", 3, 37), x.p("b", 3, 37)))));
        cs.add(c("mul broadcast big", x -> x.out(x.b.mul(x.p("a", 64, 771), x.p("b", 771)))));
        cs.add(c("scale", x -> x.out(x.b.scale(x.p("x", 1000, 77), -1.7))));
        cs.add(c("broadcast", x -> x.out(x.b.apply1(new Broadcast(Shape.of(5, 3, 37)), x.p("x", 37)))));
        cs.add(c("broadcast big", x -> x.out(x.b.apply1(new Broadcast(Shape.of(64, 768)), x.p("x", 768)))));
        cs.add(c("reduce_to columns", x -> x.out(x.b.apply1(new ReduceTo(Shape.of(3, 37)), x.p("x", 5, 3, 37)))));
        cs.add(c("reduce_to big", x -> x.out(x.b.apply1(new ReduceTo(Shape.of(768)), x.p("x", 256, 768)))));
        cs.add(c("reduce_to narrow", x -> x.out(x.b.apply1(new ReduceTo(Shape.of(5)), x.p("x", 8192, 5)))));
        cs.add(c("reduce_to scalar", x -> x.out(x.b.apply1(new ReduceTo(Shape.SCALAR), x.p("x", 3001)))));
        cs.add(c("reduce_to identity", x -> x.out(x.b.apply1(new ReduceTo(Shape.of(3, 7)), x.p("x", 3, 7)))));
        cs.add(c("expand_last", x -> x.out(x.b.apply1(new ExpandLast(5), x.p("x", 3, 7)))));
        cs.add(c("expand_last big", x -> x.out(x.b.apply1(new ExpandLast(64), x.p("x", 2, 64, 8)))));
        cs.add(c("sum_last", x -> x.out(x.b.apply1(new SumLast(), x.p("x", 3, 7, 5)))));
        cs.add(c("sum_last vector", x -> x.out(x.b.apply1(new SumLast(), x.p("x", 1001)))));
        cs.add(c("sum_last big", x -> x.out(x.b.apply1(new SumLast(), x.p("x", 4096, 64)))));
        cs.add(c("pad_last", x -> x.out(x.b.apply1(new PadLast(2, 9, 3), x.p("x", 2, 5, 3, 4)))));
        cs.add(c("pad_last broadcast rows", x -> x.out(x.b.apply1(new PadLast(5, 9, 4), x.p("x", 2, 5, 1, 4)))));
        cs.add(c("pad_last big", x -> x.out(x.b.apply1(new PadLast(64, 96, 8), x.p("x", 4, 64, 1, 32)))));
        cs.add(c("slice_last", x -> x.out(x.b.apply1(new SliceLast(3, 4, 3), x.p("x", 2, 5, 3, 9)))));
        cs.add(c("slice_last sum rows", x -> x.out(x.b.apply1(new SliceLast(0, 5, 1), x.p("x", 2, 5, 4, 9)))));
        cs.add(c("slice_last big", x -> x.out(x.b.apply1(new SliceLast(0, 64, 8), x.p("x", 4, 64, 8, 96)))));
        cs.add(c("slice_last big sum rows", x -> x.out(x.b.apply1(new SliceLast(64, 32, 1), x.p("x", 4, 64, 8, 96)))));
        for (UnaryFn fn : UnaryFn.values()) {
            cs.add(c(fn.jsonName() + " odd", x -> x.out(x.b.unary(fn, x.p("x", 3, 37)))));
            cs.add(c(fn.jsonName() + " wide", x -> {
                x.amp = 6;
                x.out(x.b.unary(fn, x.p("x", 64, 1000)));
            }));
            cs.add(c(fn.jsonName() + "_grad odd", x -> x.out(x.b.apply1(new UnaryGrad(fn), x.p("x", 3, 37), x.p("dy", 3, 37)))));
            cs.add(c(fn.jsonName() + "_grad wide", x -> {
                x.amp = 6;
                x.out(x.b.apply1(new UnaryGrad(fn), x.p("x", 64, 1000), x.p("dy", 64, 1000)));
            }));
        }
        for (int[] sh : new int[][] {{3, 37}, {2, 32, 768}}) {
            int d = sh[sh.length - 1];
            String tag = " " + Arrays.toString(sh);
            cs.add(c("layernorm w+b" + tag, x -> x.out(x.b.apply1(new LayerNorm(1e-5, true, true), x.p("x", sh), x.p("w", d), x.p("bias", d)))));
            cs.add(c("layernorm b" + tag, x -> x.out(x.b.apply1(new LayerNorm(1e-5, false, true), x.p("x", sh), x.p("bias", d)))));
            cs.add(c("layernorm" + tag, x -> x.out(x.b.apply1(new LayerNorm(1e-5, false, false), x.p("x", sh)))));
            cs.add(c("layernorm_grad w+b" + tag, x -> x.out(x.b.apply(new LayerNormGrad(1e-5, true, true), x.p("x", sh), x.p("w", d), x.p("dy", sh)).toArray(Value[]::new))));
            cs.add(c("layernorm_grad b" + tag, x -> x.out(x.b.apply(new LayerNormGrad(1e-5, false, true), x.p("x", sh), x.p("dy", sh)).toArray(Value[]::new))));
            cs.add(c("layernorm_grad" + tag, x -> x.out(x.b.apply(new LayerNormGrad(1e-5, false, false), x.p("x", sh), x.p("dy", sh)).toArray(Value[]::new))));
            cs.add(c("rmsnorm w" + tag, x -> x.out(x.b.apply1(new RmsNorm(1e-6, true), x.p("x", sh), x.p("w", d)))));
            cs.add(c("rmsnorm" + tag, x -> x.out(x.b.apply1(new RmsNorm(1e-6, false), x.p("x", sh)))));
            cs.add(c("rmsnorm_grad w" + tag, x -> x.out(x.b.apply(new RmsNormGrad(1e-6, true), x.p("x", sh), x.p("w", d), x.p("dy", sh)).toArray(Value[]::new))));
            cs.add(c("rmsnorm_grad" + tag, x -> x.out(x.b.apply(new RmsNormGrad(1e-6, false), x.p("x", sh), x.p("dy", sh)).toArray(Value[]::new))));
        }
        // attention: {B, T, H, KV, hd}
        // the last: a window spanning two 64-row tiles of the CUDA flash kernels
        for (int[] a : new int[][] {{1, 7, 3, 1, 5}, {2, 17, 4, 4, 8}, {2, 64, 4, 2, 32}, {1, 150, 2, 1, 64}}) {
            int bb = a[0], t = a[1], h = a[2], kv = a[3], hd = a[4];
            double sc = 1 / Math.sqrt(hd);
            for (double drop : new double[] {0, 0.25}) for (int w : t > 64 ? new int[] {70} : new int[] {0, 5})
            for (double cap : new double[] {0, 0.6}) for (boolean al : new boolean[] {false, true}) {
                String tag = " " + Arrays.toString(a) + (drop > 0 ? " dropout" : "") + (w > 0 ? " window " + w : "")
                        + (cap > 0 ? " softcap " + cap : "") + (al ? " alibi" : "");
                cs.add(c("attention" + tag, x -> {
                    List<Value> in = new ArrayList<>(List.of(x.p("q", bb, t, h, hd), x.p("k", bb, t, kv, hd), x.p("v", bb, t, kv, hd)));
                    if (drop > 0) in.add(x.ids("seed", 1 << 30));
                    x.out(x.b.apply1(new Attention(h, kv, sc, drop, 5, w, cap, al), in.toArray(Value[]::new)));
                }));
                // dk/dv sum T·group terms in float (dot products over hd, then over query rows): 1e-4
                cs.add(new Case("attention_grad" + tag, 1e-4, x -> {
                    List<Value> in = new ArrayList<>(List.of(x.p("q", bb, t, h, hd), x.p("k", bb, t, kv, hd),
                            x.p("v", bb, t, kv, hd), x.p("dy", bb, t, h, hd)));
                    if (drop > 0) in.add(x.ids("seed", 1 << 30));
                    x.out(x.b.apply(new AttentionGrad(h, kv, sc, drop, 5, w, cap, al), in.toArray(Value[]::new)).toArray(Value[]::new));
                }));
            }
            // chunked attention (keys of the query's own chunk only): alone, and with dropout, a window, softcap and
            // ALiBi; the long shapes' chunks cross the 64-row tiles of the CUDA flash kernels
            int ch = t < 10 ? 3 : t < 20 ? 4 : t <= 64 ? 24 : 70;
            for (boolean all : new boolean[] {false, true}) {
                double drop = all ? 0.25 : 0, cap = all ? 0.6 : 0;
                int w = all ? (t > 64 ? 50 : 5) : 0;
                String tag = " " + Arrays.toString(a) + " chunk " + ch + (all ? " dropout window softcap alibi" : "");
                cs.add(c("attention" + tag, x -> {
                    List<Value> in = new ArrayList<>(List.of(x.p("q", bb, t, h, hd), x.p("k", bb, t, kv, hd), x.p("v", bb, t, kv, hd)));
                    if (drop > 0) in.add(x.ids("seed", 1 << 30));
                    x.out(x.b.apply1(new Attention(h, kv, sc, drop, 5, w, cap, all, ch), in.toArray(Value[]::new)));
                }));
                cs.add(new Case("attention_grad" + tag, 1e-4, x -> {
                    List<Value> in = new ArrayList<>(List.of(x.p("q", bb, t, h, hd), x.p("k", bb, t, kv, hd),
                            x.p("v", bb, t, kv, hd), x.p("dy", bb, t, h, hd)));
                    if (drop > 0) in.add(x.ids("seed", 1 << 30));
                    x.out(x.b.apply(new AttentionGrad(h, kv, sc, drop, 5, w, cap, all, ch), in.toArray(Value[]::new)).toArray(Value[]::new));
                }));
            }
        }
        cs.add(c("rope half", x -> x.out(x.b.apply1(new Rope(100, 6, false, false), x.p("x", 2, 5, 3, 6)))));
        cs.add(c("rope half partial inverse", x -> x.out(x.b.apply1(new Rope(10000, 4, false, true), x.p("x", 2, 5, 3, 10)))));
        cs.add(c("rope interleaved partial", x -> x.out(x.b.apply1(new Rope(100, 4, true, false), x.p("x", 2, 5, 3, 6)))));
        cs.add(c("rope interleaved inverse", x -> x.out(x.b.apply1(new Rope(500, 8, true, true), x.p("x", 1, 9, 2, 8)))));
        cs.add(c("rope big", x -> x.out(x.b.apply1(new Rope(10000, 32, false, false), x.p("x", 2, 64, 4, 32)))));
        cs.add(c("rope big partial", x -> x.out(x.b.apply1(new Rope(10000, 48, false, false), x.p("x", 2, 64, 4, 64)))));
        cs.add(c("rope at position", x -> x.out(x.b.apply1(new Rope(10000, 8, false, false), x.p("x", 2, 3, 2, 8), x.ids("pos", 40)))));
        cs.add(c("rope interleaved at position", x -> x.out(x.b.apply1(new Rope(100, 6, true, true), x.p("x", 1, 4, 3, 6), x.ids("pos", 9)))));
        cs.add(c("rope period", x -> x.out(x.b.apply1(new Rope(100, 6, false, false, 3), x.p("x", 2, 8, 3, 6)))));
        cs.add(c("rope interleaved inverse period", x -> x.out(x.b.apply1(new Rope(500, 4, true, true, 4), x.p("x", 1, 9, 2, 8)))));
        cs.add(c("rope period at position", x -> x.out(x.b.apply1(new Rope(10000, 8, false, false, 5), x.p("x", 2, 3, 2, 8), x.ids("pos", 40)))));
        cs.add(c("position_ids", x -> x.out(x.b.embedding(x.p("t", 60, 4), x.b.apply1(new PositionIds(5), x.ids("pos", 50))))));
        cs.add(c("kv_write", x -> x.out(x.b.apply1(new KvWrite(), x.state("c", false, 2, 10, 2, 4), x.p("x", 2, 3, 2, 4), x.ids("pos", 8)))));
        for (int[] a : new int[][] {{2, 3, 4, 2, 8, 10, 0, 0}, {1, 1, 6, 3, 32, 64, 0, 0}, {2, 3, 4, 2, 8, 10, 3, 0},
                {1, 1, 6, 3, 32, 64, 17, 0}, {2, 3, 4, 2, 8, 10, 0, 5}, {1, 1, 6, 3, 32, 64, 17, 5},
                {2, 3, 4, 2, 8, 10, 0, 0, 1}, {1, 1, 6, 3, 32, 64, 0, 0, 1}, {2, 3, 12, 4, 8, 10, 3, 5, 1},
                {1, 2, 6, 3, 32, 64, 17, 5, 1}, {2, 3, 4, 2, 8, 10, 0, 0, 0, 4}, {1, 2, 6, 3, 32, 64, 0, 0, 0, 16},
                {2, 3, 12, 4, 8, 10, 3, 5, 1, 4}, {1, 3, 6, 3, 32, 64, 9, 5, 1, 24},
                {2, 1, 8, 1, 72, 40, 0, 0}}) {
            // B, S, H, KV, hd, Tmax, window, softcap/10[, alibi[, chunk]]; the last: mla's absorbed decode step (one shared
            // key/value head of width kv_lora_rank + qk_rope_head_dim)
            cs.add(c("cached_attention " + Arrays.toString(a), x -> x.out(x.b.apply1(new CachedAttention(a[2], a[3], 1 / Math.sqrt(a[4]), a[6],
                            a[7] / 10.0, a.length > 8 && a[8] == 1, a.length > 9 ? a[9] : 0),
                    x.p("q", a[0], a[1], a[2], a[4]), x.p("k", a[0], a[5], a[3], a[4]), x.p("v", a[0], a[5], a[3], a[4]),
                    x.ids("pos", a[5] - a[1] + 1)))));
        }
        // recurrent mixers: {B, T, C, K} convolutions; scans over T not a multiple of the chunk (64) and several chunks
        for (int[] a : new int[][] {{2, 7, 5, 4}, {2, 130, 96, 4}, {1, 3, 8, 4}}) {
            cs.add(c("causal_conv " + Arrays.toString(a), x -> x.out(x.b.apply1(new CausalConv(false), x.p("x", a[0], a[1], a[2]), x.p("w", a[2], a[3])))));
            cs.add(c("causal_conv_grad " + Arrays.toString(a), x -> x.out(x.b.apply(new CausalConvGrad(), x.p("x", a[0], a[1], a[2]),
                    x.p("w", a[2], a[3]), x.p("dy", a[0], a[1], a[2])).toArray(Value[]::new))));
            for (int pos : new int[] {0, 9}) {
                cs.add(c("causal_conv_cached pos=" + pos + " " + Arrays.toString(a), x -> {
                    Value[] o = x.b.apply(new CausalConv(true), x.p("x", a[0], a[1], a[2]), x.p("w", a[2], a[3]),
                            x.state("st", false, a[0], a[3] - 1, a[2]), x.fixed("pos", pos)).toArray(Value[]::new);
                    x.out(o);
                }));
            }
        }
        // gated delta: {B, T, H, dk, dv}; ssd: {B, T, H, P, G, N}
        for (int[] a : new int[][] {{2, 5, 2, 4, 3}, {1, 150, 2, 16, 8}, {2, 64, 1, 8, 8}, {1, 100, 2, 64, 40}, {1, 40, 1, 128, 128}}) {
            cs.add(new Case("gated_delta_scan " + Arrays.toString(a), 1e-4, x -> x.out(x.b.apply1(new GatedDeltaScan(false), gdnIn(x, a)))));
            cs.add(new Case("gated_delta_scan_grad " + Arrays.toString(a), 1e-4, x -> {
                List<Value> in = new ArrayList<>(List.of(gdnIn(x, a)));
                in.add(x.p("do", a[0], a[1], a[2], a[4]));
                x.out(x.b.apply(new GatedDeltaScanGrad(), in.toArray(Value[]::new)).toArray(Value[]::new));
            }));
            for (int pos : new int[] {0, 7}) {
                cs.add(new Case("gated_delta_scan_cached pos=" + pos + " " + Arrays.toString(a), 1e-4, x -> {
                    List<Value> in = new ArrayList<>(List.of(gdnIn(x, a)));
                    in.add(x.state("st", false, a[0], a[2], a[3], a[4]));
                    in.add(x.fixed("pos", pos));
                    x.out(x.b.apply(new GatedDeltaScan(true), in.toArray(Value[]::new)).toArray(Value[]::new));
                }));
            }
        }
        for (int[] a : new int[][] {{2, 5, 2, 3, 1, 4}, {1, 150, 4, 8, 2, 16}, {2, 64, 2, 8, 2, 8}, {1, 100, 4, 64, 2, 40}, {1, 40, 2, 128, 1, 128}}) {
            cs.add(new Case("ssd_scan " + Arrays.toString(a), 1e-4, x -> x.out(x.b.apply1(new SsdScan(false), ssdIn(x, a)))));
            cs.add(new Case("ssd_scan_grad " + Arrays.toString(a), 1e-4, x -> {
                List<Value> in = new ArrayList<>(List.of(ssdIn(x, a)));
                in.add(x.p("dy", a[0], a[1], a[2], a[3]));
                x.out(x.b.apply(new SsdScanGrad(), in.toArray(Value[]::new)).toArray(Value[]::new));
            }));
            for (int pos : new int[] {0, 7}) {
                cs.add(new Case("ssd_scan_cached pos=" + pos + " " + Arrays.toString(a), 1e-4, x -> {
                    List<Value> in = new ArrayList<>(List.of(ssdIn(x, a)));
                    in.add(x.state("st", false, a[0], a[2], a[3], a[5]));
                    in.add(x.fixed("pos", pos));
                    x.out(x.b.apply(new SsdScan(true), in.toArray(Value[]::new)).toArray(Value[]::new));
                }));
            }
        }
        cs.add(c("dropout", x -> x.out(x.b.apply1(new Dropout(0.4, 3), x.p("x", 3, 37), x.ids("seed", 1 << 30)))));
        cs.add(c("dropout big", x -> x.out(x.b.apply1(new Dropout(0.1, 11), x.p("x", 100, 1001), x.ids("seed", 1 << 30)))));
        cs.add(c("reshape", x -> x.out(x.b.reshape(x.p("x", 2, 6), 3, 4))));
        cs.add(c("swap_axes heads", x -> x.out(x.b.apply1(new SwapAxes(2, 3), x.p("x", 2, 5, 2, 3, 4)))));
        cs.add(c("swap_axes leading", x -> x.out(x.b.apply1(new SwapAxes(0, 1), x.p("x", 3, 7, 2)))));
        cs.add(c("swap_axes big", x -> x.out(x.b.apply1(new SwapAxes(1, 3), x.p("x", 2, 33, 3, 17, 5)))));
        cs.add(c("reshape i32", x -> {
            Value ids = x.b.reshape(x.ids("ids", 9, 2, 6), 12);
            x.out(ids, x.b.embedding(x.p("t", 9, 5), ids));
        }));
        cs.add(c("cross_entropy", x -> x.out(x.b.crossEntropy(x.p("l", 2, 3, 5), x.ids("t", 5, 2, 3)))));
        cs.add(c("cross_entropy big", x -> {
            x.amp = 8;
            x.out(x.b.crossEntropy(x.p("l", 64, 1003), x.ids("t", 1003, 64)));
        }));
        cs.add(c("cross_entropy_grad", x -> x.out(x.b.apply1(new CrossEntropyGrad(), x.p("l", 2, 3, 5), x.ids("t", 5, 2, 3), x.scalar("dl", 1.3f)))));
        cs.add(c("cross_entropy_grad big", x -> {
            x.amp = 8;
            x.out(x.b.apply1(new CrossEntropyGrad(), x.p("l", 64, 1003), x.ids("t", 1003, 64), x.scalar("dl", 0.7f)));
        }));
        cs.add(c("sum_squares", x -> x.out(x.b.apply1(new SumSquares(), x.p("x", 3, 37)))));
        cs.add(c("sum_squares big", x -> x.out(x.b.apply1(new SumSquares(), x.p("x", 100003)))));
        for (double mx : new double[] {0, 0.5, 1e6}) {
            cs.add(c("grad_clip max=" + mx, x -> x.out(x.b.apply(new GradClip(mx), x.p("g1", 3, 37), x.p("g2", 5), x.p("g3", 300, 301)).toArray(Value[]::new))));
        }
        for (int[] sh : new int[][] {{3, 37}, {300, 301}}) {
            cs.add(c("adamw " + Arrays.toString(sh), x -> x.out(x.b.apply(new AdamW(0.9, 0.95, 1e-8, 0.1),
                    x.p("p", sh), x.p("g", sh), x.state("m", false, sh), x.state("v", true, sh),
                    x.scalar("lr", 3e-3f), x.scalar("step", 7), x.scalar("gs", 0.8f)).toArray(Value[]::new))));
            cs.add(c("sgd " + Arrays.toString(sh), x -> x.out(x.b.apply(new Sgd(0.9, 0.01),
                    x.p("p", sh), x.p("g", sh), x.state("buf", false, sh), x.scalar("lr", 0.05f), x.scalar("gs", 0.8f)).toArray(Value[]::new))));
            cs.add(c("nesterov_momentum " + Arrays.toString(sh), x -> x.out(x.b.apply(new NesterovMomentum(),
                    x.state("buf", false, sh), x.p("g", sh), x.scalar("mu", 0.9f), x.scalar("gs", 0.8f)).toArray(Value[]::new))));
            cs.add(c("frobenius_normalize " + Arrays.toString(sh), x -> x.out(x.b.apply1(new FrobeniusNormalize(1e-7), x.p("x", sh)))));
            cs.add(c("descend " + Arrays.toString(sh), x -> x.out(x.b.apply1(new Descend(1.5, 0.1),
                    x.p("p", sh), x.p("u", sh), x.scalar("lr", 0.04f)))));
        }
        moeCases(cs);
        scanCases(cs);
        return cs.stream();
    }

    /**
     * The mixture-of-experts ops, chained as a layer uses them (routing feeds the slots and offsets
     * of the others, so the int outputs are checked too): small odd shapes and a realistic one,
     * softmax and sigmoid, with a balancing bias and a capacity that drops, both grouped-matmul
     * layouts and their weight gradients, and the bias update.
     */
    static void moeCases(List<Case> cs) {
        record M(String name, int n, int d, int h, int e, int k, boolean sigmoid, boolean bias, int cap) {}
        for (M m : new M[] {new M("odd", 7, 5, 3, 3, 2, false, false, 0), new M("sigmoid bias capacity", 9, 6, 4, 5, 2, true, true, 3),
                new M("top1 capacity", 11, 4, 3, 4, 1, false, false, 2), new M("big", 512, 64, 96, 8, 2, false, true, 160)}) {
            int rows = MoeRoute.rows(m.n, m.e, m.k, m.cap);
            cs.add(c("moe " + m.name, x -> {
                Value logits = x.p("logits", m.n, m.e);
                List<Value> r = m.bias ? x.b.apply(new MoeRoute(m.e, m.k, m.sigmoid, m.cap, rows), logits, x.p("bias", m.e))
                        : x.b.apply(new MoeRoute(m.e, m.k, m.sigmoid, m.cap, rows), logits);
                Value slot = r.get(0), sel = r.get(1), offsets = r.get(2);
                Value gates = x.b.apply1(new MoeGate(m.e, m.sigmoid), logits, sel);
                Value all = x.b.apply1(new MoeGate(m.e, m.sigmoid), logits);
                Value dl = x.b.apply1(new MoeGateGrad(m.e, m.sigmoid), logits, sel, x.p("dg", m.n, m.k));
                Value dlAll = x.b.apply1(new MoeGateGrad(m.e, m.sigmoid), logits, x.p("dgall", m.n, m.e));
                Value xs = x.p("x", m.n, m.d);
                Value xg = x.b.apply1(new MoeDispatch(rows), xs, slot);
                Value xgGated = x.b.apply1(new MoeDispatch(rows), xs, slot, gates);
                Value hg = x.b.apply1(new GroupedMatMul(true), xg, x.p("w1", m.e, m.h, m.d), offsets);
                Value yg = x.b.apply1(new GroupedMatMul(false), hg, x.p("w2", m.e, m.h, m.d), offsets);
                Value y = x.b.apply1(new MoeCombine(), yg, slot, gates);
                Value yUngated = x.b.apply1(new MoeCombine(), yg, slot);
                Value dot = x.b.apply1(new MoeRowDot(), xs, yg, slot);
                Value dyg = x.p("dyg", rows, m.h);
                Value dw1 = x.b.apply1(new GroupedMatMulWGrad(true), xg, dyg, offsets);
                Value dw2 = x.b.apply1(new GroupedMatMulWGrad(false), xg, dyg, offsets);
                Value bias2 = x.b.apply1(new BiasBalance(0.01), x.state("balance", false, m.e), r.get(3));
                x.out(slot, sel, offsets, r.get(3), r.get(4), gates, all, dl, dlAll, xg, xgGated, hg, yg, y, yUngated, dot, dw1, dw2, bias2);
            }));
        }
    }


    /** A decode position input fixed to {@code pos}. */
    static Value pos(Ctx x, int pos) {
        x.ints.put("pos", new int[] {pos});
        return x.b.input("pos", TensorType.i32(Shape.SCALAR));
    }

    /**
     * The scans: the CPU forward kernels are chunked (64 steps), the reference is the token-by-token
     * recurrence, so lengths below, at and across chunk boundaries prove chunked == recurrent.
     */
    static void scanCases(List<Case> cs) {
        List<Double> g3 = List.of(0.97, 0.5, 0.9);
        // {B, T, H, dk, dv}
        for (int[] a : new int[][] {{1, 1, 3, 4, 5}, {2, 5, 3, 3, 7}, {1, 63, 3, 8, 8}, {2, 64, 3, 8, 12}, {1, 65, 3, 5, 4},
                {1, 150, 3, 32, 64}, {1, 200, 3, 16, 8}, {1, 40, 2, 64, 64}}) {
            String tag = " " + Arrays.toString(a);
            List<Double> gam = g3.subList(0, a[2]);
            cs.add(c("retention" + tag, x -> x.out(x.b.apply1(new Retention(gam), x.p("q", a[0], a[1], a[2], a[3]),
                    x.p("k", a[0], a[1], a[2], a[3]), x.p("v", a[0], a[1], a[2], a[4])))));
            cs.add(c("mlstm" + tag, x -> {
                Value q = x.p("q", a[0], a[1], a[2], a[3]), k = x.p("k", a[0], a[1], a[2], a[3]), v = x.p("v", a[0], a[1], a[2], a[4]);
                x.amp = 4;   // gates spread enough to move the stabiliser
                Value i = x.p("i", a[0], a[1], a[2]), f = x.p("f", a[0], a[1], a[2]);
                x.out(x.b.apply1(new Mlstm(), q, k, v, i, f));
            }));
            // one step: the forget gate meets a zero state, df is 0 up to rounding (no relative error to speak of)
            if (a[1] == 1 || a[1] > 64 && a[3] > 8) continue;
            cs.add(new Case("retention_grad" + tag, 1e-4, x -> x.out(x.b.apply(new RetentionGrad(gam), x.p("q", a[0], a[1], a[2], a[3]),
                    x.p("k", a[0], a[1], a[2], a[3]), x.p("v", a[0], a[1], a[2], a[4]), x.p("dy", a[0], a[1], a[2], a[4]))
                    .toArray(Value[]::new))));
            cs.add(new Case("mlstm_grad" + tag, 1e-4, x -> {
                Value q = x.p("q", a[0], a[1], a[2], a[3]), k = x.p("k", a[0], a[1], a[2], a[3]), v = x.p("v", a[0], a[1], a[2], a[4]);
                Value dy = x.p("dy", a[0], a[1], a[2], a[4]);
                x.amp = 4;
                Value i = x.p("i", a[0], a[1], a[2]), f = x.p("f", a[0], a[1], a[2]);
                Value y = x.b.apply1(new Mlstm(), q, k, v, i, f);
                x.out(x.b.apply(new MlstmGrad(), q, k, v, i, f, y, dy).toArray(Value[]::new));
            }));
        }
        for (int[] a : new int[][] {{1, 1, 2, 4, 5}, {2, 5, 3, 3, 7}, {1, 64, 2, 8, 8}, {2, 65, 2, 5, 4}, {1, 150, 2, 32, 32}, {1, 40, 2, 64, 64},
                {1, 130, 1, 8, 16}, {2, 50, 5, 16, 1}, {1, 40, 3, 20, 1}}) {
            String tag = " " + Arrays.toString(a);
            cs.add(c("wkv" + tag, x -> x.out(x.b.apply1(new Wkv(), x.p("r", a[0], a[1], a[2], a[3]), x.p("k", a[0], a[1], a[2], a[3]),
                    x.p("v", a[0], a[1], a[2], a[4]), x.p("w", a[0], a[1], a[2], a[3]), x.p("u", a[2], a[3])))));
            if (a[1] == 1 || a[1] > 64 && a[3] > 8) continue;
            cs.add(new Case("wkv_grad" + tag, 1e-4, x -> x.out(x.b.apply(new WkvGrad(), x.p("r", a[0], a[1], a[2], a[3]),
                    x.p("k", a[0], a[1], a[2], a[3]), x.p("v", a[0], a[1], a[2], a[4]), x.p("w", a[0], a[1], a[2], a[3]), x.p("u", a[2], a[3]),
                    x.p("dy", a[0], a[1], a[2], a[4])).toArray(Value[]::new))));
        }
        for (int[] a : new int[][] {{1, 1, 5}, {3, 7, 37}, {2, 64, 96}}) {
            cs.add(c("token_shift " + Arrays.toString(a), x -> x.out(x.b.apply1(new TokenShift(), x.p("x", a)))));
            cs.add(c("token_shift_reverse " + Arrays.toString(a), x -> x.out(x.b.apply1(new TokenShift(true, false), x.p("x", a)))));
        }
        // decoding forms: resume from a state (pos > 0) or start over (pos 0)
        for (int p0 : new int[] {0, 9}) {
            for (int[] a : new int[][] {{2, 1, 3, 4, 6}, {1, 70, 2, 8, 8}}) {
                String tag = " " + Arrays.toString(a) + " pos " + p0;
                List<Double> gam = g3.subList(0, a[2]);
                cs.add(c("retention_step" + tag, x -> x.out(x.b.apply(new Retention(gam, true), x.p("q", a[0], a[1], a[2], a[3]),
                        x.p("k", a[0], a[1], a[2], a[3]), x.p("v", a[0], a[1], a[2], a[4]),
                        x.state("s", false, a[0], a[2], a[3], a[4]), pos(x, p0)).toArray(Value[]::new))));
                cs.add(c("wkv_step" + tag, x -> x.out(x.b.apply(new Wkv(true), x.p("r", a[0], a[1], a[2], a[3]),
                        x.p("k", a[0], a[1], a[2], a[3]), x.p("v", a[0], a[1], a[2], a[4]), x.p("w", a[0], a[1], a[2], a[3]),
                        x.p("u", a[2], a[3]), x.state("s", false, a[0], a[2], a[3], a[4]), pos(x, p0)).toArray(Value[]::new))));
                cs.add(c("token_shift_step" + tag, x -> x.out(x.b.apply(new TokenShift(false, true), x.p("x", a[0], a[1], a[3]),
                        x.state("s", false, a[0], a[3]), pos(x, p0)).toArray(Value[]::new))));
                cs.add(c("mlstm_step" + tag, x -> {
                    Value q = x.p("q", a[0], a[1], a[2], a[3]), k = x.p("k", a[0], a[1], a[2], a[3]), v = x.p("v", a[0], a[1], a[2], a[4]);
                    Value st = x.state("s", false, a[0], a[2], Mlstm.stateSize(a[3], a[4]));
                    x.amp = 4;
                    Value i = x.p("i", a[0], a[1], a[2]), f = x.p("f", a[0], a[1], a[2]);
                    x.out(x.b.apply(new Mlstm(true), q, k, v, i, f, st, pos(x, p0)).toArray(Value[]::new));
                }));
            }
        }
    }

    /**
     * Gated-delta inputs as the block makes them: q, k unit rows (k scaled), log decays in (-1, 0),
     * β in (0, 1), so the state stays bounded over long scans.
     */
    static Value[] gdnIn(Ctx x, int[] a) {
        Value q = x.b.apply1(new RmsNorm(1e-6, false), x.p("q", a[0], a[1], a[2], a[3]));
        Value k = x.b.scale(x.b.apply1(new RmsNorm(1e-6, false), x.p("k", a[0], a[1], a[2], a[3])), 1 / Math.sqrt(a[3]));
        Value g = x.b.scale(x.b.unary(UnaryFn.SIGMOID, x.p("g", a[0], a[1], a[2])), -1);
        return new Value[] {x.b.scale(q, 1 / Math.sqrt(a[3])), k, x.p("v", a[0], a[1], a[2], a[4]), g,
                x.b.unary(UnaryFn.SIGMOID, x.p("beta", a[0], a[1], a[2]))};
    }

    /** SSD inputs: log decays in (-1, 0) (as Δ·A with A < 0). */
    static Value[] ssdIn(Ctx x, int[] a) {
        Value dec = x.b.scale(x.b.unary(UnaryFn.SIGMOID, x.p("a", a[0], a[1], a[2])), -1);
        return new Value[] {x.p("x", a[0], a[1], a[2], a[3]), dec, x.p("bm", a[0], a[1], a[4], a[5]), x.p("c", a[0], a[1], a[4], a[5])};
    }

    record Built(Program program, Ctx ctx) {}

    static Built build(Case cs) {
        Ctx x = new Ctx(cs.name.hashCode());
        cs.body.accept(x);
        return new Built(x.b.build(), x);
    }

    @Test
    void everyOpIsCovered() {
        Set<Class<?>> seen = new HashSet<>();
        cases().forEach(cs -> build(cs).program.nodes().forEach(n -> seen.add(n.op().getClass())));
        List<String> missing = new ArrayList<>();
        for (Class<?> op : Op.class.getPermittedSubclasses()) if (!seen.contains(op)) missing.add(op.getSimpleName());
        assertTrue(missing.isEmpty(), "ops with no CPU kernel test (add a case to CpuKernelsTest): " + missing);
    }

    /** A float and an int arena with every value of a program laid out, leaves filled, outputs poisoned. */
    static final class Arena {
        final float[] f;
        final int[] ints;
        final int[] off;

        Arena(Program p, Ctx x) {
            off = new int[p.valueCount()];
            int nf = 3, ni = 1;   // odd start offsets: kernels must not assume alignment
            List<Value> leaves = new ArrayList<>();
            leaves.addAll(p.inputs());
            leaves.addAll(p.params());
            leaves.addAll(p.state());
            for (Value v : leaves) {
                if (v.dtype() == DType.I32) { off[v.id()] = ni; ni += v.shape().intSize(); }
                else { off[v.id()] = nf; nf += v.shape().intSize(); }
            }
            List<int[]> poison = new ArrayList<>();
            for (Node n : p.nodes()) {
                int[] alias = n.op().aliases();
                for (int k = 0; k < n.outputs().size(); k++) {
                    Value o = n.outputs().get(k);
                    if (k < alias.length && alias[k] >= 0) off[o.id()] = off[n.input(alias[k]).id()];
                    else if (n.op() instanceof Reshape) off[o.id()] = off[n.input(0).id()];
                    else if (o.dtype() == DType.I32) { off[o.id()] = ni; ni += o.shape().intSize(); }
                    else {
                        off[o.id()] = nf;
                        poison.add(new int[] {nf, o.shape().intSize()});
                        nf += o.shape().intSize();
                    }
                }
            }
            f = new float[nf];
            ints = new int[ni];
            for (Value v : leaves) {
                if (v.dtype() == DType.I32) System.arraycopy(x.ints.get(v.name()), 0, ints, off[v.id()], v.shape().intSize());
                else System.arraycopy(x.floats.get(v.name()), 0, f, off[v.id()], v.shape().intSize());
            }
            for (int[] r : poison) Arrays.fill(f, r[0], r[0] + r[1], Float.NaN);
        }

        void run(Program p) {
            for (Node n : p.nodes()) {
                int[] in = n.inputs().stream().mapToInt(v -> off[v.id()]).toArray();
                int[] out = n.outputs().stream().mapToInt(v -> off[v.id()]).toArray();
                CpuKernels.run(n, f, ints, in, out);
            }
        }
    }

    static Arena runCpu(Built b, boolean serial) {
        Arena a = new Arena(b.program, b.ctx);
        boolean old = Chunks.serial;
        Chunks.serial = serial;
        try {
            a.run(b.program);
        } finally {
            Chunks.serial = old;
        }
        return a;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(Case cs) {
        Built b = build(cs);
        Map<String, Shape> shapes = new HashMap<>();
        for (List<Value> g : List.of(b.program.inputs(), b.program.params(), b.program.state())) {
            for (Value v : g) shapes.put(v.name(), v.shape());
        }
        Map<String, Tensor> leaves = new HashMap<>();
        b.ctx.floats.forEach((n, v) -> {
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) d[i] = v[i];
            leaves.put(n, Tensor.of(shapes.get(n), d));
        });
        b.ctx.ints.forEach((n, v) -> leaves.put(n, Tensor.ofInts(shapes.get(n), v.clone())));
        Map<String, Tensor> ref = ReferenceInterpreter.run(b.program, leaves);
        Arena a = runCpu(b, false);
        for (Map.Entry<String, Value> e : b.program.outputs().entrySet()) {
            Value v = e.getValue();
            Tensor r = ref.get(e.getKey());
            int o = a.off[v.id()], n = v.shape().intSize();
            if (v.dtype() == DType.I32) {
                assertArrayEquals(r.i(), Arrays.copyOfRange(a.ints, o, o + n), e.getKey());
                continue;
            }
            double num = 0, den = 0;
            for (int i = 0; i < n; i++) {
                float got = a.f[o + i];
                assertFalse(Float.isNaN(got), () -> e.getKey() + ": element not written (NaN)");
                double d = got - r.f()[i];
                num += d * d;
                den += r.f()[i] * r.f()[i];
            }
            double err = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
            assertTrue(err < cs.tol, cs.name + " " + e.getKey() + ": relative error " + err + " >= " + cs.tol);
        }
    }

    /** The executor may also place a reshape's output elsewhere: then it is a copy, in the arena of its dtype. */
    @Test
    void reshapeCopiesWhenOffsetsDiffer() {
        ProgramBuilder b = new ProgramBuilder("reshape");
        Value x = b.param("x", Shape.of(2, 6), Init.zeros());
        Value ids = b.input("ids", TensorType.i32(Shape.of(2, 3)));
        Value y = b.reshape(x, 3, 4), j = b.reshape(ids, 6);
        b.output("y", y);
        b.output("j", j);
        Program p = b.build();
        float[] f = new float[30];
        int[] ints = new int[15];
        for (int i = 0; i < 12; i++) f[1 + i] = i + 0.5f;
        for (int i = 0; i < 6; i++) ints[2 + i] = 7 * i;
        Arrays.fill(f, 15, 27, Float.NaN);
        CpuKernels.run(p.nodes().get(0), f, ints, new int[] {1}, new int[] {15});
        CpuKernels.run(p.nodes().get(1), f, ints, new int[] {2}, new int[] {9});
        assertArrayEquals(Arrays.copyOfRange(f, 1, 13), Arrays.copyOfRange(f, 15, 27));
        assertArrayEquals(Arrays.copyOfRange(ints, 2, 8), Arrays.copyOfRange(ints, 9, 15));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bitIdenticalForAnyThreadCount(Case cs) {
        Built b = build(cs);
        Arena multi = runCpu(b, false), single = runCpu(b, true), again = runCpu(b, false);
        assertTrue(Arrays.equals(multi.f, single.f), "multi-threaded and single-threaded floats differ");
        assertTrue(Arrays.equals(multi.f, again.f), "two multi-threaded runs differ");
        assertArrayEquals(multi.ints, single.ints);
    }
}
