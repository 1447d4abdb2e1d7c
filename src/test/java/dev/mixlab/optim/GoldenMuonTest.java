package dev.mixlab.optim;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.ParamGroup;
import dev.mixlab.config.TrainSpec;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.io.Tensor;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * One Muon + Adam step of the parameter-golf split against PyTorch in float64
 * ({@code reference/torch_muon_step.py} writes the golden; skipped while it is absent): the default
 * groups of {@code "optimizer": "muon"}, the lr multiplier on every group, momentum at its warmup start.
 */
class GoldenMuonTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/golden_muon.safetensors");

    @Test
    void oneStepMatchesPyTorch() {
        Assumptions.assumeTrue(Files.exists(GOLDEN), "no " + GOLDEN + ": run python3 reference/torch_muon_step.py");
        try (SafetensorsFile f = Safetensors.read(GOLDEN)) {
            double lrMul = Double.parseDouble(f.metadata().get("lr_mul"));
            double momentum = Double.parseDouble(f.metadata().get("momentum"));
            double baseLr = 1e-3;
            TrainSpec t = MuonTest.spec(ParamGroup.golfDefaults(0.9, 0.95, 1e-8), baseLr, 0);
            assertEquals(momentum, t.muonMomentumAt(0), 1e-15);
            ProgramBuilder b = new ProgramBuilder("golden_muon");
            Map<Value, Value> grads = new LinkedHashMap<>();
            List<String> names = f.names().stream().filter(n -> n.startsWith("param.")).map(n -> n.substring(6)).toList();
            for (String n : names) {
                Shape s = shape(f.tensor("param." + n));
                grads.put(b.param(n, s, Init.zeros()), b.input("grad." + n, TensorType.f32(s)));
            }
            Value lr = b.input(OptimizerEmitter.LR, TensorType.f32(Shape.SCALAR));
            Value step = b.input(OptimizerEmitter.STEP, TensorType.f32(Shape.SCALAR));
            OptimizerEmitter.emit(b, t, grads, lr, step);
            Program p = b.build();
            for (Backend backend : List.<Backend>of(new ReferenceBackend(), new CpuBackend())) {
                double tol = backend instanceof ReferenceBackend ? 1e-9 : 2e-5;
                try (Executable e = backend.compile(p)) {
                    for (String n : names) {
                        e.setDoubles(n, f.tensor("param." + n).doubles());
                        e.setDoubles("grad." + n, f.tensor("grad." + n).doubles());
                    }
                    e.setDoubles(OptimizerEmitter.LR, new double[] {baseLr * lrMul});
                    e.setDoubles(OptimizerEmitter.STEP, new double[] {1});
                    e.setDoubles(OptimizerEmitter.MUON_MOMENTUM, new double[] {momentum});
                    e.run();
                    for (String n : names) {
                        double[] want = f.tensor("out." + n).doubles(), got = e.getDoubles(n);
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(want[i], got[i], tol, backend.name() + " " + n + "[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    static Shape shape(Tensor t) {
        long[] s = t.shape();
        int[] d = new int[s.length];
        for (int i = 0; i < s.length; i++) d[i] = Math.toIntExact(s[i]);
        return Shape.of(d);
    }
}
