package dev.mixlab.train;

import static dev.mixlab.train.GoldenTest.assertClose;
import static dev.mixlab.train.GoldenTest.assertRel;
import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The parameter-golf baseline architecture computes what the seed's model computes:
 * {@code golden_golf.safetensors} comes from reference/torch_golf.py (a float64 PyTorch port of
 * train_gpt_mlx.py's GPT, shrunk to 5 layers so U-Net skips and the odd decoder layer exist):
 * initial weights, one batch, softcapped logits, the loss and every gradient. The float64 reference
 * backend must agree to 1e-9 (loss) / 1e-7 (logits, gradients); the float32 CPU engine to 1e-5 / 1e-4.
 * Without the golden file the PyTorch comparison is skipped with a one-line notice; the CPU engine
 * is still held to the reference backend on the same config.
 */
class GolfGoldenTest {
    static final Path FILE = Path.of("src/test/resources/golden/golden_golf.safetensors");

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of(new ReferenceBackend(), 1e-9, 1e-7), Arguments.of(new CpuBackend(), 1e-5, 1e-4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(Backend backend, double lossTol, double gradTol) {
        if (!Files.exists(FILE)) Assumptions.abort("no " + FILE + " yet (python3 reference/torch_golf.py OUT_DIR makes it); golf golden skipped");
        try (SafetensorsFile g = Safetensors.read(FILE)) {
            Config c = ConfigLoader.parse(g.metadata().get("config"), "golden_golf");
            Program gp = Programs.gradients(c, Programs.batch(c));
            Map<String, double[]> weights = new HashMap<>();
            for (Value p : gp.params()) weights.put(p.name(), g.tensor("param." + p.name()).doubles());
            Result r = run(backend, gp, weights, g.tensor("batch.x").ints(), g.tensor("batch.y").ints());
            assertRel(g.tensor("loss").doubles()[0], r.loss, lossTol, "golf loss");
            assertClose(g.tensor("logits").doubles(), r.logits, gradTol, "golf logits");
            for (Value p : gp.params()) {
                assertClose(g.tensor("grad." + p.name()).doubles(), r.grads.get(p.name()), gradTol, "golf gradient of " + p.name());
            }
        }
    }

    /** The golden's config, random weights (non-zero projections, perturbed control tensors): CPU float32 ≈ float64 reference. */
    @Test
    void cpuMatchesReferenceOnTheGoldenConfig() {
        String json = """
                {"name": "golden_golf", "model_dim": 64, "vocab_size": 256, "seq_len": 32, "mlp_mult": 2,
                 "blocks": [{"type": "plain", "heads": 4, "kv_heads": 2, "activation": "relu2", "ffn": "mlp", "repeat": 5}],
                 "positional_embedding": "rope", "norm_type": "rmsnorm", "norm_eps": 1e-6, "norm_weight": false,
                 "qk_norm": true, "q_gain": true, "qk_gain_init": 1.5, "branch_scales": true, "resid_mix": true,
                 "unet_skips": true, "logit_softcap": 30.0, "tied_embed_init_std": 0.005, "zero_init_proj": true,
                 "embed_norm": true, "training": {"batch_tokens": 64}}
                """;
        Config c = ConfigLoader.parse(json, "golden_golf.json");
        Program gp = Programs.gradients(c, Programs.batch(c));
        assertEquals(161_172, gp.parameterCount());
        Random rnd = new Random(7);
        Map<String, double[]> w = new HashMap<>();
        for (Value p : gp.params()) {
            double[] v = new double[p.shape().intSize()];
            boolean control = p.tags().contains("control");
            for (int i = 0; i < v.length; i++) {
                double base = control ? ((Init.Constant) p.init()).value() : 0;
                v[i] = base + rnd.nextGaussian() * (control ? 0.1 : p.name().equals("tok_emb.weight") ? 0.005 : 0.02);
            }
            w.put(p.name(), v);
        }
        int[] x = new int[64], y = new int[64];
        for (int i = 0; i < 64; i++) {
            x[i] = rnd.nextInt(256);
            y[i] = rnd.nextInt(256);
        }
        Result ref = run(new ReferenceBackend(), gp, w, x, y), cpu = run(new CpuBackend(), gp, w, x, y);
        assertRel(ref.loss, cpu.loss, 1e-5, "loss");
        assertClose(ref.logits, cpu.logits, 1e-4, "logits");
        for (Value p : gp.params()) assertClose(ref.grads.get(p.name()), cpu.grads.get(p.name()), 1e-4, "gradient of " + p.name());
    }

    record Result(double loss, double[] logits, Map<String, double[]> grads) {}

    static Result run(Backend backend, Program gp, Map<String, double[]> weights, int[] x, int[] y) {
        try (Executable e = backend.compile(gp)) {
            for (Value p : gp.params()) e.setDoubles(p.name(), weights.get(p.name()));
            e.setFloats(Programs.GRAD_SEED, new float[] {1});
            e.setInts(Programs.IDS, x);
            e.setInts(Programs.TARGETS, y);
            e.run();
            Map<String, double[]> grads = new HashMap<>();
            for (Value p : gp.params()) grads.put(p.name(), e.getDoubles("grad." + p.name()));
            return new Result(e.getDoubles(Programs.LOSS)[0], e.getDoubles("logits"), grads);
        }
    }
}
