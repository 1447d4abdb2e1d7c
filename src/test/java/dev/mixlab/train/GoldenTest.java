package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.optim.OptimizerEmitter;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine computes what PyTorch computes. Goldens come from reference/torch_gpt.py (float64, CPU,
 * an independent op-by-op PyTorch model): initial weights, one batch, logits, loss, every gradient,
 * and three AdamW steps with clipping. The float64 reference backend must agree to rounding; the
 * float32 CPU engine to 1e-5 relative on losses and 1e-4 on gradients (float32 has 24 bits, and
 * the sums here run over a few thousand terms).
 */
class GoldenTest {
    static Stream<Arguments> cases() {
        return Stream.of("golden_nanogpt", "golden_variant").flatMap(g -> Stream.of(
                Arguments.of(g, new ReferenceBackend(), 1e-9, 1e-7),
                Arguments.of(g, new CpuBackend(), 1e-5, 1e-4)));
    }

    static Path file(String name) {
        return Path.of("src/test/resources/golden/" + name + ".safetensors");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void matchesPyTorch(String golden, Backend backend, double lossTol, double gradTol) {
        try (SafetensorsFile g = Safetensors.read(file(golden))) {
            Config c = ConfigLoader.parse(g.metadata().get("config"), golden);
            int batch = Programs.batch(c);
            int[] x = g.tensor("batch.x").ints(), y = g.tensor("batch.y").ints();
            double[] losses = g.tensor("loss").doubles(), norms = g.tensor("grad_norm").doubles();

            Program gp = Programs.gradients(c, batch);
            try (Executable e = backend.compile(gp)) {
                for (Value p : gp.params()) e.setDoubles(p.name(), g.tensor("param." + p.name()).doubles());
                e.setFloats(Programs.GRAD_SEED, new float[] {1});
                e.setInts(Programs.IDS, x);
                e.setInts(Programs.TARGETS, y);
                e.run();
                assertRel(losses[0], e.getDoubles(Programs.LOSS)[0], lossTol, golden + " initial loss");
                assertClose(g.tensor("logits").doubles(), e.getDoubles("logits"), gradTol, golden + " logits");
                for (Value p : gp.params()) {
                    assertClose(g.tensor("grad." + p.name()).doubles(), e.getDoubles("grad." + p.name()), gradTol,
                            golden + " gradient of " + p.name());
                }
            }

            Program sp = Programs.trainStep(c, batch);
            try (Executable e = backend.compile(sp)) {
                for (Value p : sp.params()) e.setDoubles(p.name(), g.tensor("param." + p.name()).doubles());
                for (Value s : sp.state()) e.setFloats(s.name(), new float[s.shape().intSize()]);
                e.setFloats(Programs.GRAD_SEED, new float[] {1});
                e.setInts(Programs.IDS, x);
                e.setInts(Programs.TARGETS, y);
                e.setFloats(OptimizerEmitter.LR, new float[] {(float) c.training().lr()});
                for (int k = 0; k < 3; k++) {
                    e.setFloats(OptimizerEmitter.STEP, new float[] {k + 1});
                    e.run();
                    assertRel(losses[k], e.getDoubles(Programs.LOSS)[0], lossTol, golden + " loss before step " + (k + 1));
                    assertRel(norms[k], e.getDoubles(Programs.GRAD_NORM)[0], gradTol, golden + " grad norm at step " + (k + 1));
                }
                for (Value p : sp.params()) {
                    assertClose(g.tensor("final." + p.name()).doubles(), e.getDoubles(p.name()), gradTol,
                            golden + " weights after 3 AdamW steps: " + p.name());
                }
            }
        }
    }

    static void assertRel(double want, double got, double tol, String what) {
        assertTrue(Math.abs(want - got) <= tol * Math.abs(want), what + ": PyTorch " + want + ", mixlab " + got);
    }

    /** Relative Frobenius error ‖got − want‖ / ‖want‖. */
    static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": size");
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (got[i] - want[i]);
            den += want[i] * want[i];
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-300));
        assertTrue(rel <= tol, what + ": relative error " + rel + " > " + tol);
    }
}
