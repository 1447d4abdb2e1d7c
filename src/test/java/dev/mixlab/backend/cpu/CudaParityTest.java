package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cuda.CudaBackend;
import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.DType;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CUDA equals the float64 reference on every op case of {@link CpuKernelsTest} (forward and backward
 * ops alike). Lives beside the CPU kernel tests to share their case catalogue. Without a GPU the
 * whole class is skipped with a one-line notice. On the GPU machine:
 * {@code bench/cuda-parity.sh} (see docs/cuda.md).
 *
 * <p>Tolerance 1e-4 relative (Frobenius): float32 like the CPU, but sums run in a different order
 * (atomics in backward kernels, cuBLAS blocking) and {@code erff}/{@code expf} are within 2 ulp.
 */
class CudaParityTest {
    static CudaBackend cuda;

    @BeforeAll
    static void gpu() {
        String why = CudaBackend.unavailable();
        if (why != null) System.err.println("CUDA parity tests skipped: no CUDA GPU here (" + why + ")");
        Assumptions.assumeTrue(why == null, () -> "no CUDA GPU here (" + why + "); CUDA parity tests skipped");
        cuda = new CudaBackend();   // past this point a failure (e.g. a kernel that does not compile) is a bug
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mixlab.backend.cpu.CpuKernelsTest#cases")
    void matchesReference(CpuKernelsTest.Case cs) {
        check(cs, 1e-4);
    }

    /** The attention cases (forward and gradient) of head_dim 32/64, which the bf16 tensor-core kernels take. */
    static java.util.stream.Stream<CpuKernelsTest.Case> mmaAttentionCases() {
        return CpuKernelsTest.cases()
                .filter(c -> (c.name().startsWith("attention [") || c.name().startsWith("attention_grad [")) && (c.name().contains(", 32]") || c.name().contains(", 64]")));
    }

    /**
     * The bf16 tensor-core attention kernels ({@code mma_fwd_*}, {@code mma_bwd_*}) against the float64
     * reference. Tolerance 1e-2 relative: q, k, v, dy, the probabilities and dS are rounded to bf16 (8 significant bits,
     * relative rounding error 2⁻⁹ ≈ 2e-3 each); with float32 accumulation the errors of the
     * independent roundings add in quadrature to a few 1e-3, so 1e-2 leaves headroom while a wrong
     * mask or fragment layout gives errors of order 1.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("mmaAttentionCases")
    void bf16AttentionMatchesReference(CpuKernelsTest.Case cs) {
        String before = System.getProperty("mixlab.cuda.attention");
        System.setProperty("mixlab.cuda.attention", "mma");
        try {
            check(cs, 1e-2);
        } finally {
            if (before == null) System.clearProperty("mixlab.cuda.attention");
            else System.setProperty("mixlab.cuda.attention", before);
        }
    }

    /**
     * Forward and backward attention over the same q, k, v (and dropout seed) in one program: the pair
     * the fused tensor-core backward takes (lse and the output kept by the forward, dq by atomics).
     */
    static java.util.stream.Stream<CpuKernelsTest.Case> attentionPairCases() {
        List<CpuKernelsTest.Case> cs = new java.util.ArrayList<>();
        for (int[] a : new int[][] {{2, 64, 4, 2, 32}, {1, 150, 2, 1, 64}, {2, 200, 6, 3, 64}}) {
            int bb = a[0], t = a[1], h = a[2], kv = a[3], hd = a[4];
            for (double drop : new double[] {0, 0.25}) for (int w : new int[] {0, 70}) for (double cap : new double[] {0, 0.6})
            for (boolean al : new boolean[] {false, true}) {
                String tag = java.util.Arrays.toString(a) + (drop > 0 ? " dropout" : "") + (w > 0 ? " window " + w : "")
                        + (cap > 0 ? " softcap " + cap : "") + (al ? " alibi" : "");
                cs.add(new CpuKernelsTest.Case("attention pair " + tag, 1e-5, x -> {
                    Value q = x.p("q", bb, t, h, hd), k = x.p("k", bb, t, kv, hd), v = x.p("v", bb, t, kv, hd), dy = x.p("dy", bb, t, h, hd);
                    Value seed = drop > 0 ? x.ids("seed", 1 << 30) : null;
                    double sc = 1 / Math.sqrt(hd);
                    x.out(drop > 0 ? x.b.apply1(new dev.mixlab.ir.Attention(h, kv, sc, drop, 5, w, cap, al), q, k, v, seed)
                            : x.b.apply1(new dev.mixlab.ir.Attention(h, kv, sc, drop, 5, w, cap, al), q, k, v));
                    x.out((drop > 0 ? x.b.apply(new dev.mixlab.ir.AttentionGrad(h, kv, sc, drop, 5, w, cap, al), q, k, v, dy, seed)
                            : x.b.apply(new dev.mixlab.ir.AttentionGrad(h, kv, sc, drop, 5, w, cap, al), q, k, v, dy)).toArray(Value[]::new));
                }));
            }
        }
        return cs.stream();
    }

    /** The fused tensor-core backward, against the reference; tolerance as {@link #bf16AttentionMatchesReference}. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("attentionPairCases")
    void bf16AttentionPairMatchesReference(CpuKernelsTest.Case cs) {
        bf16AttentionMatchesReference(cs);
    }

    /**
     * The same cases at the default precision (bf16 products): the tensor-core attention kernels then
     * read bf16 copies of q, k, v and dy (the {@code mma_*_h} variants, D = dy·o from the bf16 dy).
     * Tolerance as {@link #bf16AttentionMatchesReference}: the float32 variants round q, k, v and dy to
     * bf16 on load, so the copies add no rounding of their own (the scale 1/√hd multiplies the rounded q,
     * exact for head widths that are powers of four, one more rounding of 2⁻⁹ otherwise).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource({"mmaAttentionCases", "attentionPairCases"})
    void bf16CopiesAttentionMatchesReference(CpuKernelsTest.Case cs) {
        String fp32 = System.getProperty("mixlab.cuda.fp32");
        System.clearProperty("mixlab.cuda.fp32");
        try {
            bf16AttentionMatchesReference(cs);
        } finally {
            if (fp32 != null) System.setProperty("mixlab.cuda.fp32", fp32);
        }
    }

    /**
     * The general tensor-core kernels on plain causal masks ({@code -Dmixlab.cuda.generalMask=true}):
     * those masks otherwise take the specialised {@code mma_fwdc_*}/{@code mma_bwd_kvc_*} kernels, so
     * without this the general ones would be checked only with a window, softcap or ALiBi. Both input
     * precisions (float32 rounded on load, and the bf16 copies); tolerance as above.
     */
    static java.util.stream.Stream<CpuKernelsTest.Case> plainMaskPairCases() {
        return attentionPairCases().filter(c -> !c.name().contains("window") && !c.name().contains("softcap") && !c.name().contains("alibi"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plainMaskPairCases")
    void generalMaskKernelsMatchReference(CpuKernelsTest.Case cs) {
        System.setProperty("mixlab.cuda.generalMask", "true");
        try {
            bf16AttentionMatchesReference(cs);
            bf16CopiesAttentionMatchesReference(cs);
        } finally {
            System.clearProperty("mixlab.cuda.generalMask");
        }
    }

    private void check(CpuKernelsTest.Case cs, double minTol) {
        CpuKernelsTest.Built b = CpuKernelsTest.build(cs);
        Map<String, Shape> shapes = new HashMap<>();
        for (List<Value> g : List.of(b.program().inputs(), b.program().params(), b.program().state())) {
            for (Value v : g) shapes.put(v.name(), v.shape());
        }
        Map<String, Tensor> leaves = new HashMap<>();
        b.ctx().floats.forEach((n, v) -> {
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) d[i] = v[i];
            leaves.put(n, Tensor.of(shapes.get(n), d));
        });
        b.ctx().ints.forEach((n, v) -> leaves.put(n, Tensor.ofInts(shapes.get(n), v.clone())));
        Map<String, Tensor> ref = ReferenceInterpreter.run(b.program(), leaves);
        try (Executable e = cuda.compile(b.program())) {
            b.ctx().floats.forEach(e::setFloats);
            b.ctx().ints.forEach(e::setInts);
            e.run();
            for (Map.Entry<String, Value> o : b.program().outputs().entrySet()) {
                if (o.getValue().dtype() == DType.I32) continue;
                float[] got = e.getFloats(o.getKey());
                double[] want = ref.get(o.getKey()).f();
                double num = 0, den = 0;
                for (int i = 0; i < got.length; i++) {
                    assertFalse(Float.isNaN(got[i]), cs.name() + " " + o.getKey() + "[" + i + "] is NaN");
                    num += (got[i] - want[i]) * (got[i] - want[i]);
                    den += want[i] * want[i];
                }
                double err = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
                double tol = Math.max(cs.tol(), minTol);
                assertTrue(err < tol, cs.name() + " " + o.getKey() + ": CUDA vs reference relative error " + err + " >= " + tol);
            }
        }
    }
}
