package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.autodiff.Autodiff;
import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.MoeBlock;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The MoE FFN against an independent PyTorch implementation of Hugging Face's MixtralSparseMoeBlock
 * and load_balancing_loss_func (and a DeepSeek-V3-style sigmoid/bias/shared-expert variant), float64:
 * outputs, aux loss and the gradients of sum(y·ct) + coef·aux to 1e-9. The golden comes from
 * {@code reference/torch_moe.py}.
 */
class TorchMoeGoldenTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/moe.json");

    @Test
    void matchesPyTorchMixtralMoe() throws IOException {
        assertTrue(Files.exists(GOLDEN), "run reference/torch_moe.py on a machine with PyTorch");
        JsonNode g = new ObjectMapper().readTree(GOLDEN.toFile());
        int n = g.get("N").asInt(), d = g.get("D").asInt(), h = g.get("H").asInt(), e = g.get("E").asInt();
        for (JsonNode cs : g.get("cases")) check(cs, n, d, h, e);
    }

    static void check(JsonNode cs, int n, int d, int h, int e) {
        String name = cs.get("name").asText();
        boolean bias = cs.get("values").has("router.balance_bias");
        Config c = ConfigLoader.parse("""
                {"model_dim": %d, "seq_len": %d, "vocab_size": 16, "training": {"batch_tokens": %d},
                 "blocks": [{"type": "moe", "heads": 2, "experts": %d, "top_k": %d, "router": "%s", "expert_ffn": "swiglu",
                             "expert_mult": %s, "shared_experts": %d, "aux_loss_coef": %s, "bias_balancing": %s}]}"""
                .formatted(d, n, n, e, cs.get("top_k").asInt(), cs.get("router").asText(), (double) h / d,
                        cs.get("shared_experts").asInt(), cs.get("aux_loss_coef").asDouble(), bias), "golden.json");
        ProgramBuilder b = new ProgramBuilder("golden");
        Value x = b.param("x", Shape.of(1, n, d), Init.zeros());
        ModelContext ctx = new ModelContext(b, c, true, null, 1, null);
        Value y = MixtureOfExperts.apply(ctx, "m", x, (MoeBlock) c.layers().get(0), 0);
        Value aux = ctx.routers().get(0).auxLoss();
        Value ct = b.input("ct", y.type());
        List<Value> outs = new ArrayList<>(List.of(y)), cts = new ArrayList<>(List.of(ct));
        if (aux != null) {
            outs.add(aux);
            cts.add(b.input("one", TensorType.f32(Shape.SCALAR)));
            b.output("aux", aux);
        }
        List<Value> wrt = b.params().stream().filter(p -> !p.tags().contains(RouterTap.BUFFER)).toList();
        Map<Value, Value> grads = Autodiff.vjp(b, outs, cts, wrt);
        b.output("y", y);
        grads.forEach((p, gv) -> b.output("grad." + p.name(), gv));
        Program p = b.build();
        Map<String, Tensor> leaves = new HashMap<>();
        for (Value v : p.params()) {
            String key = v.name().equals("x") ? "x" : v.name().substring(2);   // "m.router.weight" -> "router.weight"
            assertTrue(cs.get("values").has(key), name + ": golden has no " + key);
            leaves.put(v.name(), Tensor.of(v.shape(), doubles(cs.get("values").get(key))));
        }
        leaves.put("ct", Tensor.of(y.shape(), doubles(cs.get("ct"))));
        if (aux != null) leaves.put("one", Tensor.of(Shape.SCALAR, new double[] {1}));
        Map<String, Tensor> out = ReferenceInterpreter.run(p, leaves);
        assertArrayEquals(doubles(cs.get("y")), out.get("y").f(), 1e-9, name + ": y");
        if (aux != null) assertEquals(cs.get("aux").asDouble(), out.get("aux").scalar(), 1e-9, name + ": aux");
        else assertEquals(0.0, cs.get("aux").asDouble(), name + ": the golden has an aux loss the config lacks");
        var it = cs.get("grads").fields();
        while (it.hasNext()) {
            var en = it.next();
            String key = en.getKey().equals("x") ? "grad.x" : "grad.m." + en.getKey();
            assertArrayEquals(doubles(en.getValue()), out.get(key).f(), 1e-9, name + ": " + key);
        }
    }

    static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }
}
