package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.GatedDeltaNetBlock;
import dev.mixlab.config.Mamba2Block;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The recurrent mixers against independent PyTorch implementations (reference/torch_gated_deltanet.py, also
 * with grouped value heads; reference/torch_mamba2.py; reference/torch_mamba1.py, Mamba-1 with Jamba's norms: float64, token-by-token recurrences written from the papers and the
 * official code): the same weights and input give the same mixer output to 1e-9 on the reference
 * backend. Skipped until the goldens are generated on a machine with PyTorch.
 */
class GoldenBlocksTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gated_deltanet", "gated_deltanet_gva", "mamba2", "mamba"})
    void mixerMatchesPyTorch(String block) throws Exception {
        Path path = Path.of("src/test/resources/golden/" + block + ".json");
        assertTrue(Files.exists(path), "run reference/torch_" + (block.equals("mamba") ? "mamba1" : block.replace("_gva", ""))
                + ".py on a machine with PyTorch");
        JsonNode g = new ObjectMapper().readTree(path.toFile());
        int bs = g.get("B").asInt(), t = g.get("T").asInt(), d = g.get("D").asInt();
        String spec = block.startsWith("gated_deltanet")
                ? "{\"type\": \"gated_deltanet\", \"heads\": %d, \"value_heads\": %d, \"head_dim\": %d, \"expand_v\": %d, \"conv_size\": %d}"
                        .formatted(g.get("heads").asInt(), g.path("value_heads").asInt(g.get("heads").asInt()), g.get("head_dim").asInt(),
                                g.get("expand_v").asInt(), g.get("conv_size").asInt())
                : block.equals("mamba")
                ? "{\"type\": \"mamba\", \"expand\": %d, \"d_state\": %d, \"conv_size\": %d, \"dt_rank\": %d, \"dt_norm\": true}"
                        .formatted(g.get("expand").asInt(), g.get("d_state").asInt(), g.get("conv_size").asInt(), g.get("dt_rank").asInt())
                : "{\"type\": \"mamba2\", \"expand\": %d, \"head_dim\": %d, \"d_state\": %d, \"ngroups\": %d, \"conv_size\": %d}"
                        .formatted(g.get("expand").asInt(), g.get("head_dim").asInt(), g.get("d_state").asInt(), g.get("ngroups").asInt(),
                                g.get("conv_size").asInt());
        Config c = ConfigLoader.parse("""
                {"model_dim": %d, "seq_len": %d, "vocab_size": 16, "norm_eps": %s, "blocks": [%s], "training": {"batch_tokens": %d}}
                """.formatted(d, t, g.get("norm_eps").asText(), spec, bs * t), "golden.json");
        ProgramBuilder b = new ProgramBuilder("golden");
        Value x = b.param("x", Shape.of(bs, t, d), Init.zeros());
        ModelContext ctx = new ModelContext(b, c, false, null, bs, null);
        Value y = switch (c.layers().getFirst()) {
            case GatedDeltaNetBlock s -> Recurrent.gatedDeltaNet(ctx, "m", x, s);
            case Mamba2Block s -> Recurrent.mamba2(ctx, "m", x, s);
            case dev.mixlab.config.Mamba1Block s -> Recurrent.mamba1(ctx, "m", x, s);
            default -> throw new AssertionError("not a recurrent block");
        };
        b.output("y", y);
        var p = b.build();
        Map<String, Tensor> leaves = new HashMap<>();
        leaves.put("x", Tensor.of(x.shape(), doubles(g.get("x"))));
        for (Value v : p.params()) {
            if (v.name().equals("x")) continue;
            JsonNode w = g.get("weights").get(v.name().substring(2));
            assertNotNull(w, "golden has no weight " + v.name());
            double[] a = doubles(w);
            assertEquals(v.shape().size(), a.length, v.name());
            leaves.put(v.name(), Tensor.of(v.shape(), a));
        }
        double[] got = ReferenceInterpreter.run(p, leaves).get("y").f(), want = doubles(g.get("y"));
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-9 * Math.max(1, Math.abs(want[i])), block + " y[" + i + "]");
    }

    static double[] doubles(JsonNode a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) d[i] = a.get(i).asDouble();
        return d;
    }
}
