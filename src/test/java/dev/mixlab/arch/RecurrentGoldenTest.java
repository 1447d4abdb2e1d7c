package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.autodiff.Autodiff;
import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The recurrent mixer layers against independent PyTorch implementations (float64 recurrences from
 * the papers and the official code): {@code reference/torch_retnet.py} and {@code reference/torch_mlstm.py}
 * and {@code reference/torch_rwkv.py} (a whole RWKV-6 layer: time and channel mixing with their norms)
 * write the goldens; the layer's output and the gradients of {@code sum(y·ct)} w.r.t. its input and
 * every parameter must match to 1e-9 on the reference backend, and the output to 1e-4 on the CPU
 * (whose chunked kernels cross a 64-step chunk boundary at T = 70).
 */
class RecurrentGoldenTest {
    interface Layer {
        Value apply(ModelContext ctx, Value x, JsonNode cfg);
    }

    @Test
    void retnetMatchesPyTorch() throws IOException {
        check("retnet", "torch_retnet.py", (ctx, x, c) -> MultiScaleRetention.apply(ctx, "retention", x, c.get("heads").asInt(),
                c.get("head_dim").asInt(), c.get("value_dim").asInt()), "retnet\", \"heads\": 2");
    }

    @Test
    void mlstmMatchesPyTorch() throws IOException {
        check("mlstm", "torch_mlstm.py", (ctx, x, c) -> MatrixLstm.apply(ctx, "mlstm", x, c.get("heads").asInt(),
                c.get("head_dim").asInt()), "mlstm\", \"heads\": 3");
    }

    @Test
    void rwkvMatchesPyTorch() throws IOException {
        check("rwkv", "torch_rwkv.py", (ctx, x, c) -> Blocks.apply(ctx, ctx.config().layers().get(0), 0, x),
                "rwkv\", \"head_size\": 8, \"mix_lora_dim\": 4, \"decay_lora_dim\": 6, \"mlp_mult\": 3.5");
    }

    static void check(String name, String script, Layer layer, String block) throws IOException {
        Path file = Path.of("src/test/resources/golden/" + name + ".json");
        assertTrue(Files.exists(file), "no " + file + ": run reference/" + script + " on a machine with PyTorch");
        JsonNode g = new ObjectMapper().readTree(file.toFile()), c = g.get("config");
        int bsz = c.get("batch").asInt(), t = c.get("seq_len").asInt(), d = c.get("model_dim").asInt();
        Config config = ConfigLoader.parse("""
                {"model_dim": %d, "seq_len": %d, "positional_embedding": "none", "norm_eps": %s, "blocks": [{"type": "%s}],
                 "training": {"batch_tokens": %d}}
                """.formatted(d, t, c.get("norm_eps").asText(), block, bsz * t), name + ".json");
        ProgramBuilder b = new ProgramBuilder(name);
        Value x = b.param("x", Shape.of(bsz, t, d), Init.zeros());
        Value y = layer.apply(new ModelContext(b, config, false, null, bsz, null), x, c);
        Value ct = b.input("ct", TensorType.f32(y.shape()));
        List<Value> wrt = new ArrayList<>(b.params());
        Map<Value, Value> grads = Autodiff.vjp(b, List.of(y), List.of(ct), wrt);
        b.output("y", y);
        grads.forEach((p, gv) -> b.output("grad." + p.name(), gv));
        Program p = b.build();
        for (Backend backend : new Backend[] {new ReferenceBackend(), new CpuBackend()}) {
            boolean ref = backend instanceof ReferenceBackend;
            try (Executable e = backend.compile(p)) {
                e.setDoubles("x", doubles(g.get("x")));
                e.setDoubles("ct", doubles(g.get("ct")));
                for (Value v : p.params()) {
                    if (v.name().equals("x")) continue;
                    JsonNode w = g.get("params").get(v.name());
                    assertNotNull(w, "golden has no parameter " + v.name());
                    e.setDoubles(v.name(), doubles(w.get("data")));
                }
                e.run();
                close(doubles(g.get("y")), e.getDoubles("y"), ref ? 1e-9 : 1e-4, backend + " " + name + " y");
                assertTrue(g.has("grads"), file + " has no gradients");
                for (Value v : p.params()) {
                    close(doubles(g.get("grads").get(v.name())), e.getDoubles("grad." + v.name()), ref ? 1e-9 : 1e-3,
                            backend + " " + name + " d/d" + v.name());
                }
            }
        }
    }

    static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    /** Relative L2 error below tol. */
    static void close(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - got[i]) * (want[i] - got[i]);
            den += want[i] * want[i];
        }
        double err = Math.sqrt(num / Math.max(den, 1e-300));
        assertTrue(err < tol, what + ": relative error " + err + " >= " + tol);
    }
}
