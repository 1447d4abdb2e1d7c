package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop end to end on a tiny model and a slice of the bundled Shakespeare text. */
class TrainerTest {
    @TempDir
    Path tmp;

    static final String CFG = """
            {"name": "t", "model_dim": 32, "seq_len": 32, "dropout": 0.1,
             "blocks": [{"type": "plain", "heads": 2, "repeat": 2}, {"type": "swiglu"}],
             "training": {"steps": 12, "lr": 3e-3, "warmup_steps": 2, "batch_tokens": 256,
                          "log_every_steps": 4, "val_every_steps": 6, "val_tokens": 256}}
            """;

    Path text() throws IOException {
        Path p = tmp.resolve("shake.txt");
        byte[] all = Files.readAllBytes(Path.of("data/tinyshakespeare.txt"));
        Files.write(p, java.util.Arrays.copyOf(all, 60_000));
        return p;
    }

    RunSummary train(Config c, Path out, Double budget) throws IOException {
        TrainOptions o = new TrainOptions(text().toString(), null, null, budget, out, null);
        return new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream())).run();
    }

    @Test
    void sameSeedGivesIdenticalLossesAndARunDirectory() throws IOException {
        Config c = ConfigLoader.parse(CFG, "t.json");
        RunSummary a = train(c, tmp.resolve("a"), null);
        RunSummary b = train(c, tmp.resolve("b"), null);
        List<String> ma = Files.readAllLines(tmp.resolve("a/metrics.jsonl"));
        List<String> mb = Files.readAllLines(tmp.resolve("b/metrics.jsonl"));
        ObjectMapper om = new ObjectMapper();
        assertEquals(ma.size(), mb.size());
        for (int i = 0; i < ma.size(); i++) {
            JsonNode x = om.readTree(ma.get(i)), y = om.readTree(mb.get(i));
            assertEquals(x.get("loss").asDouble(), y.get("loss").asDouble(), 0.0, "loss at line " + i);
            assertEquals(x.path("val_loss").asDouble(), y.path("val_loss").asDouble(), 0.0);
        }
        assertEquals(a.lastValLoss(), b.lastValLoss(), 0.0);
        assertEquals(12, a.steps());
        assertTrue(a.lastLoss() < a.firstLoss(), "loss goes down: " + a.firstLoss() + " -> " + a.lastLoss());
        // steps 1, 4, 8, 12 are logged, and 6 for its validation
        assertEquals(5, ma.size());
        assertTrue(ma.get(2).contains("\"step\":6") && ma.get(2).contains("val_loss"), ma.get(2));
        assertTrue(Files.exists(tmp.resolve("a/config.json")));
        assertTrue(Files.exists(tmp.resolve("a/summary.json")));
        // start-up is measured from the JVM's start to the first step line (this test JVM has run for a while)
        double firstLine = om.readTree(tmp.resolve("a/summary.json").toFile()).path("first_line_s").asDouble(-1);
        assertTrue(firstLine > 0 && firstLine < Trainer.secondsSinceStart(), "first_line_s " + firstLine);
        try (SafetensorsFile w = Safetensors.read(tmp.resolve("a/model.safetensors"))) {
            assertTrue(w.has("tok_emb.weight") && w.has("blocks.2.mlp.gate.weight"), w.names().toString());
        }
    }

    /** A MoE run logs the aux loss per interval and, per validation, the dropped count and expert loads. */
    @Test
    void moeRunReportsAuxLossDroppedAndLoad() throws IOException {
        Config c = ConfigLoader.parse("""
                {"name": "m", "model_dim": 32, "seq_len": 32,
                 "blocks": [{"type": "moe", "heads": 2, "experts": 4, "top_k": 2, "capacity_factor": 0.75, "bias_balancing": true}],
                 "training": {"steps": 4, "lr": 3e-3, "batch_tokens": 128, "log_every_steps": 2, "val_every_steps": 4,
                              "val_tokens": 128}}""", "m.json");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainOptions o = new TrainOptions(text().toString(), null, null, null, tmp.resolve("m"), null);
        new Trainer(c, o, new CpuBackend(), new PrintStream(log)).run();
        String text = log.toString();
        assertTrue(text.contains(" | aux 0.0"), text);
        assertTrue(text.matches("(?s).*moe \\| dropped \\d+/256 \\| load L0 \\d+ \\d+ \\d+ \\d+.*"), text);
        List<String> m = Files.readAllLines(tmp.resolve("m/metrics.jsonl"));
        JsonNode last = new ObjectMapper().readTree(m.get(m.size() - 1));
        assertTrue(last.get("aux_loss").asDouble() > 0, last.toString());
        assertEquals(256, last.get("moe_assignments").asDouble(), 0.0);   // 128 val tokens x top 2
        double sum = 0;
        for (JsonNode v : last.get("moe_load").get("0")) sum += v.asDouble();
        assertEquals(last.get("moe_assignments").asDouble(), sum, 0.0);
        try (SafetensorsFile w = Safetensors.read(tmp.resolve("m/model.safetensors"))) {
            assertTrue(w.has("blocks.0.moe.router.balance_bias") && w.has("blocks.0.moe.experts.gate.weight"), w.names().toString());
        }
    }

    /** Latent attention inside moe blocks (the deepseek_v3 family at toy size) trains: loss falls, the bias moves. */
    @Test
    void latentAttentionMoeTrains() throws IOException {
        Config c = ConfigLoader.parse("""
                {"preset": "deepseek_v3", "name": "d", "model_dim": 32, "vocab_size": 256, "seq_len": 32, "mlp_mult": 2,
                 "init_std": 0.02,
                 "blocks": [{"type": "mla", "heads": 2, "q_lora_rank": 12, "kv_lora_rank": 16},
                            {"heads": 2, "q_lora_rank": 12, "kv_lora_rank": 16, "experts": 4, "top_k": 2, "expert_mult": 1}],
                 "training": {"steps": 12, "lr": 3e-3, "batch_tokens": 256, "log_every_steps": 4, "val_every_steps": 12,
                              "val_tokens": 256}}""", "d.json");
        RunSummary r = train(c, tmp.resolve("d"), null);
        assertTrue(r.lastLoss() < r.firstLoss(), "loss goes down: " + r.firstLoss() + " -> " + r.lastLoss());
        try (SafetensorsFile w = Safetensors.read(tmp.resolve("d/model.safetensors"))) {
            assertTrue(w.has("blocks.1.attn.kv_down.weight") && w.has("blocks.1.attn.q_up.weight")
                    && w.has("blocks.1.moe.experts.gate.weight") && w.has("blocks.0.mlp.gate.weight"), w.names().toString());
            float[] bias = w.tensor("blocks.1.moe.router.balance_bias").floats();
            boolean moved = false;
            for (float b : bias) moved |= b != 0;
            assertTrue(moved, "bias balancing updated the routing bias: " + java.util.Arrays.toString(bias));
        }
    }

    @Test
    void differentSeedGivesDifferentLosses() throws IOException {
        Config c = ConfigLoader.parse(CFG, "t.json");
        Config c2 = ConfigLoader.parse(CFG.replace("\"lr\": 3e-3,", "\"lr\": 3e-3, \"seed\": 7,"), "t.json");
        assertNotEquals(train(c, tmp.resolve("a"), null).lastLoss(), train(c2, tmp.resolve("b"), null).lastLoss());
    }

    @Test
    void timeBudgetStopsEarly() throws IOException {
        Config c = ConfigLoader.parse(CFG.replace("\"steps\": 12", "\"steps\": 100000"), "t.json");
        RunSummary s = train(c, tmp.resolve("a"), 0.5);
        assertTrue(s.steps() < 100000 && s.steps() >= 1);
        assertTrue(s.trainSeconds() < 5, "stopped near the budget: " + s.trainSeconds());
        assertTrue(Double.isFinite(s.lastValLoss()), "a final validation runs");
    }
}
