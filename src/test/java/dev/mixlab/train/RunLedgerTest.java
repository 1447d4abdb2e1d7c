package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.data.DataException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every train run appends one ledger line, whether it ends ok or crashes. */
class RunLedgerTest {
    @TempDir
    Path tmp;

    String saved;
    Path ledger;

    static final String CFG = """
            {"name": "led", "model_dim": 16, "seq_len": 16, "blocks": [{"type": "plain", "heads": 2}],
             "training": {"steps": 3, "batch_tokens": 64, "log_every_steps": 1, "val_tokens": 64, "seed": 5}}
            """;

    @BeforeEach
    void useTempLedger() {
        saved = System.getProperty(RunLedger.PROPERTY);
        ledger = tmp.resolve("ledger/ledger.jsonl");
        System.setProperty(RunLedger.PROPERTY, ledger.toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty(RunLedger.PROPERTY);
        else System.setProperty(RunLedger.PROPERTY, saved);
    }

    Path text(int bytes) throws IOException {
        Path p = tmp.resolve("t" + bytes + ".txt");
        byte[] all = Files.readAllBytes(Path.of("data/tinyshakespeare.txt"));
        Files.write(p, java.util.Arrays.copyOf(all, bytes));
        return p;
    }

    @Test
    void okRunAppendsALine() throws IOException {
        Config c = ConfigLoader.parse(CFG, "led.json");
        TrainOptions o = new TrainOptions(text(20_000).toString(), null, null, null, tmp.resolve("run-a"), null);
        RunSummary s = new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream())).run();
        List<JsonNode> lines = RunLedger.read(ledger);
        assertEquals(1, lines.size());
        JsonNode l = lines.get(0);
        assertEquals("ok", l.get("status").asText());
        assertEquals("run-a", l.get("run_id").asText());
        assertEquals("led", l.get("name").asText());
        assertEquals(ConfigWriter.hash(c), l.get("config_hash").asText());
        assertEquals(5, l.get("seed").asLong());
        assertEquals("cpu", l.get("device").asText());
        assertEquals(3, l.get("budget").get("steps").asInt());
        assertEquals(3, l.get("steps").asInt());
        assertEquals(s.parameters(), l.get("params").asLong());
        assertEquals(s.tokens(), l.get("tokens").asLong());
        assertEquals(s.lastValLoss(), l.get("final_val_loss").asDouble(), 0);
        assertEquals(s.bestValLoss(), l.get("best_val_loss").asDouble(), 0);
        long fpt = ModelReport.of(c).trainFlopsPerToken();
        assertEquals(fpt, l.get("flops_per_token").asLong());
        assertEquals((double) fpt * s.tokens(), l.get("flops").asDouble(), 1);
        assertTrue(l.get("wall_s").asDouble() > 0);
        String commit = l.get("git_commit").asText();
        assertTrue(commit.equals("unknown") || commit.matches("[0-9a-f]{40}"), commit);
    }

    @Test
    void crashedRunAppendsALineAndRethrows() throws IOException {
        Config c = ConfigLoader.parse(CFG, "led.json");
        // 10 bytes of validation text is less than one window: the trainer throws
        TrainOptions o = new TrainOptions(text(20_000).toString(), text(10).toString(), null, null, tmp.resolve("run-b"), null);
        Trainer tr = new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream()));
        assertThrows(DataException.class, tr::run);
        List<JsonNode> lines = RunLedger.read(ledger);
        assertEquals(1, lines.size());
        assertEquals("crashed", lines.get(0).get("status").asText());
        assertEquals("run-b", lines.get(0).get("run_id").asText());
        assertTrue(lines.get(0).get("final_val_loss").isNull());
    }

    @Test
    void gitCommitIsReadWithoutGit() throws IOException {
        Path repo = tmp.resolve("repo");
        String sha = "0123456789abcdef0123456789abcdef01234567";
        Files.createDirectories(repo.resolve(".git/refs/heads"));
        Files.writeString(repo.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        Files.writeString(repo.resolve(".git/packed-refs"), "# pack-refs\n" + sha + " refs/heads/main\n");
        Files.createDirectories(repo.resolve("sub/dir"));
        assertEquals(sha, RunLedger.gitCommit(repo.resolve("sub/dir")));
        Files.writeString(repo.resolve(".git/refs/heads/main"), sha.replace('0', 'f') + "\n");
        assertEquals(sha.replace('0', 'f'), RunLedger.gitCommit(repo));
        assertEquals("unknown", RunLedger.gitCommit(tmp.resolve("nowhere").getRoot().resolve("proc")));
    }
}
