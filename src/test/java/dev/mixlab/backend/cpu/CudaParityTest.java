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
                double tol = Math.max(cs.tol(), 1e-4);
                assertTrue(err < tol, cs.name() + " " + o.getKey() + ": CUDA vs reference relative error " + err + " >= " + tol);
            }
        }
    }
}
