package dev.mixlab.cli;

import static dev.mixlab.cli.CliTest.assertOneLineError;
import static dev.mixlab.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mixlab prepare}, then {@code mixlab train} on the prepared directory. */
class PrepareCliTest {
    @TempDir
    Path tmp;

    static final String CONFIG = """
            {"name": "p", "model_dim": 32, "vocab_size": %d, "seq_len": 16, "blocks": [{"type": "plain", "heads": 2}],
             "training": {"steps": 3, "batch_tokens": 64, "log_every_steps": 1, "val_tokens": 32}}
            """;

    @Test
    void preparedBpeShardsTrainAndAVocabMismatchStopsFirst() throws IOException {
        Path text = tmp.resolve("s.txt");
        Files.writeString(text, Files.readString(Path.of("data/tinyshakespeare.txt")).substring(0, 20_000));
        Path dir = tmp.resolve("prep");
        CliTest.Result p = run("prepare", text.toString(), "--out", dir.toString(), "--tokenizer", "bpe:300");
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("vocab 300"), p.out());
        assertTrue(Files.isRegularFile(dir.resolve("prep_train_000000.bin")));
        assertTrue(Files.isRegularFile(dir.resolve("prep_val_000000.bin")));

        Path cfg = tmp.resolve("m.json");
        Files.writeString(cfg, CONFIG.formatted(300));
        CliTest.Result t = run("train", cfg.toString(), "--train", dir.toString(), "--out", tmp.resolve("run").toString());
        assertEquals(0, t.code(), t.err());
        var summary = new ObjectMapper().readTree(tmp.resolve("run/summary.json").toFile());
        assertEquals(3, summary.path("steps").asInt());
        assertTrue(Files.readString(tmp.resolve("run/metrics.jsonl")).lines().count() >= 3);

        Files.writeString(cfg, CONFIG.formatted(256));
        assertOneLineError(run("train", cfg.toString(), "--train", dir.toString(), "--out", tmp.resolve("run2").toString()),
                dir.resolve("manifest.json").toString(), "vocab_size", "300");
        assertFalse(Files.exists(tmp.resolve("run2")), "failed before anything ran");
    }

    @Test
    void badJsonlLineIsOneLine() throws IOException {
        Path f = tmp.resolve("d.jsonl");
        Files.writeString(f, "{\"text\": \"a\"}\n{\"txt\": \"b\"}\n");
        assertOneLineError(run("prepare", f.toString(), "--out", tmp.resolve("o").toString()), "d.jsonl:2", "--jsonl-field");
    }

    @Test
    void aRaceRefusesPreparedDataItsConfigsCannotTake() throws IOException {
        Path text = tmp.resolve("s.txt");
        Files.writeString(text, Files.readString(Path.of("data/tinyshakespeare.txt")).substring(0, 20_000));
        Path dir = tmp.resolve("prep");
        assertEquals(0, run("prepare", text.toString(), "--out", dir.toString(), "--tokenizer", "bpe:300").code());
        Path a = tmp.resolve("a.json"), b = tmp.resolve("b.json");
        Files.writeString(a, CONFIG.formatted(256).replace("\"name\": \"p\"", "\"name\": \"a\""));
        Files.writeString(b, CONFIG.formatted(256).replace("\"name\": \"p\"", "\"name\": \"b\""));
        assertOneLineError(run("race", a.toString(), b.toString(), "--train", dir.toString(), "--seeds", "1",
                "--out", tmp.resolve("race").toString()), "manifest.json", "vocab_size");
        assertFalse(Files.exists(tmp.resolve("race").resolve("runs")), "nothing trained");
    }
}
