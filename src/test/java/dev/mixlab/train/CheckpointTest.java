package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.cli.Main;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and exact resume: a run stopped and resumed (in process, or killed with SIGKILL at
 * any point and resumed) logs bit for bit the losses of the uninterrupted run and ends with the
 * same weights; incomplete checkpoints are skipped; bad resumes are refused.
 */
class CheckpointTest {
    // Tiny and with dropout, so the step-derived dropout seeds matter; logs every 3 steps so a
    // checkpoint can fall inside a logging interval.
    static final String CFG = """
            {"name": "ck", "model_dim": 16, "seq_len": 16, "dropout": 0.1,
             "blocks": [{"type": "plain", "heads": 2, "repeat": 1}],
             "training": {"steps": 10, "lr": 3e-3, "warmup_steps": 2, "batch_tokens": 64,
                          "log_every_steps": 3, "val_every_steps": 4, "val_tokens": 64}}
            """;
    static final int STEPS = 10;

    @TempDir
    static Path shared;
    static Path text, cfgFile, reference;

    @TempDir
    Path tmp;

    @BeforeAll
    static void uninterruptedRun() throws IOException {
        text = shared.resolve("shake.txt");
        byte[] all = Files.readAllBytes(Path.of("data/tinyshakespeare.txt"));
        Files.write(text, java.util.Arrays.copyOf(all, 20_000));
        cfgFile = shared.resolve("ck.json");
        Files.writeString(cfgFile, CFG);
        reference = shared.resolve("ref");
        assertEquals(0, cli("train", cfgFile.toString(), "--train", text.toString(), "--out", reference.toString()));
    }

    static int cli(String... args) {
        return Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    static String[] err = new String[1];

    static int cliErr(String... args) {
        StringWriter e = new StringWriter();
        int rc = Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(e, true));
        err[0] = e.toString();
        return rc;
    }

    static RunSummary train(Path out, Checkpoints.Options ck) {
        Config c = ConfigLoader.parse(CFG, "ck.json");
        TrainOptions o = new TrainOptions(text.toString(), null, null, null, out, null, false, ck);
        return new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream())).run();
    }

    /** Asserts {@code run}'s metrics and final weights equal the uninterrupted run's, bit for bit. */
    static void assertSameAsReference(Path run) throws IOException {
        ObjectMapper om = new ObjectMapper();
        List<String> a = Files.readAllLines(reference.resolve("metrics.jsonl"));
        List<String> b = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size(), "metrics lines\n" + String.join("\n", b));
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = om.readTree(a.get(i)), y = om.readTree(b.get(i));
            assertEquals(x.get("step").asInt(), y.get("step").asInt());
            for (String k : List.of("loss", "lr", "grad_norm", "val_loss", "tokens")) {
                assertEquals(Double.doubleToRawLongBits(x.path(k).asDouble()), Double.doubleToRawLongBits(y.path(k).asDouble()),
                        k + " at step " + x.get("step") + ": " + x.path(k) + " vs " + y.path(k));
            }
        }
        try (SafetensorsFile wa = Safetensors.read(reference.resolve("model.safetensors"));
             SafetensorsFile wb = Safetensors.read(run.resolve("model.safetensors"))) {
            assertEquals(wa.names(), wb.names());
            for (String n : wa.names()) assertArrayEquals(wa.tensor(n).floats(), wb.tensor(n).floats(), n);
        }
        JsonNode sum = om.readTree(run.resolve("summary.json").toFile());
        assertEquals("ok", sum.get("status").asText());
        assertEquals(STEPS, sum.get("steps").asInt());
    }

    @Test
    void stopThenResumeEqualsTheUninterruptedRun() throws IOException {
        Path run = tmp.resolve("run");
        RunSummary s1 = train(run, new Checkpoints.Options(0, 2, null, 4)); // step 4: inside the log interval 4..6
        assertEquals("interrupted", s1.status());
        assertEquals(4, s1.steps());
        assertTrue(Files.exists(run.resolve("checkpoints/step-000004/manifest.json")));
        JsonNode sum = new ObjectMapper().readTree(run.resolve("summary.json").toFile());
        assertEquals("interrupted", sum.get("status").asText());
        RunSummary s2 = train(run, new Checkpoints.Options(0, 2, run, 7));
        assertEquals(7, s2.steps());
        RunSummary s3 = train(run, new Checkpoints.Options(2, 2, run, null));
        assertEquals("ok", s3.status());
        assertSameAsReference(run);
        try (Stream<Path> ds = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of("step-000008", "step-000010"), ds.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the last two kept");
        }
    }

    @Test
    void incompleteOrCorruptCheckpointsAreSkipped() throws IOException {
        Path run = tmp.resolve("run");
        train(run, new Checkpoints.Options(1, 4, null, 5));
        Path ck = run.resolve("checkpoints");
        Files.delete(ck.resolve("step-000005/manifest.json")); // as if killed before the commit mark
        Path model = ck.resolve("step-000004/model.safetensors");
        byte[] b = Files.readAllBytes(model);
        Files.write(model, java.util.Arrays.copyOf(b, b.length - 100)); // truncated
        Path trainer = ck.resolve("step-000003/trainer.json");
        Files.writeString(trainer, Files.readString(trainer).replace("\"step\" : 3", "\"step\" : 9")); // edited: hash mismatch
        List<String> skipped = new ArrayList<>();
        Checkpoints.Found f = Checkpoints.latest(run, skipped);
        assertEquals(2, f.step());
        assertEquals(3, skipped.size(), skipped.toString());
        assertTrue(skipped.get(0).contains("no manifest"), skipped.toString());
        assertTrue(skipped.get(1).contains("model.safetensors has"), skipped.toString());
        assertTrue(skipped.get(2).contains("trainer.json does not match"), skipped.toString());
        train(run, new Checkpoints.Options(0, 2, run, null));
        assertSameAsReference(run);
    }

    @Test
    void refusals() throws IOException {
        Path run = tmp.resolve("run");
        String t = text.toString();
        assertEquals(0, cli("train", cfgFile.toString(), "--train", t, "--out", run.toString(), "--stop-at-step", "3"));
        // a different config
        Path other = tmp.resolve("other.json");
        Files.writeString(other, CFG.replace("\"lr\": 3e-3", "\"lr\": 1e-3").replace("\"model_dim\": 16", "\"model_dim\": 32"));
        assertEquals(2, cliErr("train", other.toString(), "--train", t, "--resume", run.toString()));
        assertTrue(err[0].contains("step-000003/trainer.json") && err[0].contains("training.lr 0.003 → 0.001")
                && err[0].contains("model_dim 16 → 32") && err[0].contains("config.json"), err[0]);
        assertEquals(1, err[0].strip().lines().count(), err[0]);
        // fewer total steps than done
        assertEquals(2, cliErr("train", cfgFile.toString(), "--train", t, "--resume", run.toString(), "--steps", "2"));
        assertTrue(err[0].contains("3 steps done") && err[0].contains("--steps 3 or more"), err[0]);
        // another seed
        assertEquals(2, cliErr("train", cfgFile.toString(), "--train", t, "--resume", run.toString(), "--seed", "5"));
        assertTrue(err[0].contains("seed"), err[0]);
        // no complete checkpoint
        Files.delete(run.resolve("checkpoints/step-000003/manifest.json"));
        assertEquals(2, cliErr("train", cfgFile.toString(), "--train", t, "--resume", run.toString()));
        assertTrue(err[0].contains("checkpoints: no complete checkpoint") && err[0].contains("--checkpoint-every"), err[0]);
        assertEquals(2, cliErr("train", cfgFile.toString(), "--train", t, "--resume", tmp.resolve("nothing").toString()));
        assertTrue(err[0].contains("no such run directory"), err[0]);
        // only the total steps changed in the config: allowed (training continues to the new total)
        Path more = tmp.resolve("more");
        assertEquals(0, cli("train", cfgFile.toString(), "--train", t, "--out", more.toString(), "--stop-at-step", "2"));
        Path shorter = tmp.resolve("shorter.json");
        Files.writeString(shorter, CFG.replace("\"steps\": 10", "\"steps\": 3"));
        assertEquals(0, cli("train", shorter.toString(), "--train", t, "--resume", more.toString()));
        assertEquals(3, new ObjectMapper().readTree(more.resolve("summary.json").toFile()).get("steps").asInt());
    }

    /**
     * Kills a training process (SIGKILL) after its 2nd checkpoint, after its 4th, and while a
     * checkpoint's files are being written; resumes each time; the end equals the uninterrupted run.
     */
    @Test
    void killedAnywhereAndResumedEqualsTheUninterruptedRun() throws Exception {
        Path run = tmp.resolve("run");
        Path ck = run.resolve("checkpoints");
        List<Predicate<Path>> killWhen = List.of(
                c -> Files.exists(c.resolve("step-000002/manifest.json")),
                c -> Files.exists(c.resolve("step-000004/manifest.json")),
                c -> tmpFileIn(c, 6));
        int kills = 0;
        List<String> first = List.of("--out", run.toString());
        List<String> again = List.of("--resume", run.toString());
        for (int attempt = 0; attempt < 8; attempt++) {
            Predicate<Path> when = kills < killWhen.size() ? killWhen.get(kills) : null;
            Process p = start(attempt == 0 ? first : again, tmp.resolve("log" + attempt));
            boolean killed = false;
            while (p.isAlive()) {
                if (when != null && when.test(ck)) {
                    p.destroyForcibly();
                    killed = true;
                    break;
                }
                Thread.sleep(2);
            }
            int rc = p.waitFor();
            if (killed) {
                List<String> skipped = new ArrayList<>();
                Checkpoints.Found f = Checkpoints.latest(run, skipped);
                assertNotNull(f, "a complete checkpoint survives kill " + kills);
                if (kills == 2) assertFalse(skipped.isEmpty(), "killed mid-write: an incomplete checkpoint after step " + f.step());
                kills++;
                continue;
            }
            assertEquals(0, rc, Files.readString(tmp.resolve("log" + attempt)));
            break;
        }
        assertEquals(killWhen.size(), kills, "every kill landed");
        assertSameAsReference(run);
    }

    /** True if a checkpoint directory of step at least {@code minStep} holds a {@code .tmp} file. */
    static boolean tmpFileIn(Path ck, int minStep) {
        try {
            for (Path d : Checkpoints.stepDirs(ck)) {
                if (Integer.parseInt(d.getFileName().toString().substring(5)) < minStep) continue;
                try (Stream<Path> fs = Files.list(d)) {
                    if (fs.anyMatch(f -> f.getFileName().toString().endsWith(Checkpoints.TMP))) return true;
                } catch (java.nio.file.NoSuchFileException gone) {
                    // pruned meanwhile
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Process start(List<String> extra, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss16m",
                "-Dmixlab.checkpoint.pause-ms=40", "-cp", System.getProperty("java.class.path"), "dev.mixlab.cli.Main",
                "train", cfgFile.toString(), "--train", text.toString(), "--checkpoint-every", "1"));
        cmd.addAll(extra);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
