package dev.mixlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: exit codes, one-line errors, the summary commands. */
class CliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Result(code, o.toString(), e.toString());
    }

    static void assertOneLineError(Result r, String... fragments) {
        assertEquals(2, r.code, "exit code; stderr: " + r.err);
        String err = r.err.strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
    }

    Path config(String json) throws IOException {
        Path p = tmp.resolve("m.json");
        Files.writeString(p, json);
        return p;
    }

    static final String TINY = """
            {"model_dim": 16, "seq_len": 8, "blocks": [{"type": "plain", "heads": 2}],
             "training": {"steps": 2, "batch_tokens": 16, "log_every_steps": 1, "val_tokens": 8}%s}
            """;

    /** Every command's --help renders cleanly: picocli warns on stderr (not our writer) about a stray '%' in a description. */
    @Test
    void everyCommandsHelpRendersWithoutWarnings() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true));
        try {
            for (String cmd : new picocli.CommandLine(new MixlabCommand()).getSubcommands().keySet()) {
                Result r = run(cmd, "--help");
                assertEquals(0, r.code, cmd + " --help: " + r.err);
                assertFalse(r.out.isBlank(), cmd + " --help printed nothing");
            }
        } finally {
            System.setErr(saved);
        }
        assertFalse(captured.toString().contains("WARN"), captured.toString());
    }

    @Test
    void countPrintsNanoGptParameterCountAtVocab256() {
        Result r = run("count", "examples/shakespeare_char.json");
        assertEquals(0, r.code, r.err);
        // nanoGPT's model at vocab 256: wte 98,304 + wpe 98,304 + 6 × 1,770,240 + final LN 384.
        assertTrue(r.out.contains("10,818,432"), r.out);
        assertTrue(r.out.contains("6N + 12"), r.out);
        // 6 layers × (k + v) × 384 floats × 4 bytes; every head has its own k and v, so MHA's is the same
        assertTrue(r.out.contains("kv cache: 18,432 bytes/token (fp32), MHA with the same heads and head dims: 18,432 bytes/token (1.00x)"), r.out);
    }

    @Test
    void countPrintsMlaParametersAndCacheBesideMha() {
        Result r = run("count", "examples/tiny_mla.json");
        assertEquals(0, r.code, r.err);
        // tok_emb 32,768 (tied) + final norm 128 + 2 × (attn_norm 128, q 192×128, kv_down 64×128, kv_norm 64, k_rope 16×128,
        // k_up 128×64, v_up 128×64, proj 128×128, mlp_norm 128, fc 512×128, proj 128×512)
        assertTrue(r.out.contains("parameters                    430,848"), r.out);
        // per layer the latent (64) and the shared RoPE key (16) against MHA's 4 heads × (k 48 + v 32), float32, 2 layers
        assertTrue(r.out.contains("kv cache: 640 bytes/token (fp32), MHA with the same heads and head dims: 2,560 bytes/token (4.00x)"), r.out);
    }

    @Test
    void countPrintsTheRecurrentStateOfRecurrentMixers() {
        Result r = run("count", "examples/tiny_retnet.json");
        assertEquals(0, r.code, r.err);
        // 2 layers × 4 heads × head_dim 32 × value_dim 64 floats, no KV cache
        assertTrue(r.out.contains("recurrent state: 65,536 bytes/sequence"), r.out);
        assertFalse(r.out.contains("kv cache"), "no attention, no KV cache line: " + r.out);
        r = run("count", "bench/blocks/mamba2_d512.json");
        assertEquals(0, r.code, r.err);
        // 4 layers × (SSM state 16 heads × 64 × d_state 64 + conv rows 3 × (d_inner 1024 + 2 × 64)) floats
        assertTrue(r.out.contains("recurrent state: 1,103,872 bytes/sequence"), r.out);
        r = run("count", "examples/shakespeare_char.json");
        assertFalse(r.out.contains("recurrent state"), r.out);
    }

    @Test
    void countPrintsActiveAndTotalParametersOfAMixtureOfExperts() {
        Result r = run("count", "examples/shakespeare_moe.json");
        assertEquals(0, r.code, r.err);
        // wte + wpe 2 × 98,304, final LN 384, 6 × (attention 4·384² + 2 LNs 768 + router 8·384 + 8 experts × 3·384²);
        // active: 2 of the 8 experts per layer
        assertTrue(r.out.contains("parameters                 24,992,640"), r.out);
        assertTrue(r.out.contains("active parameters           9,067,392"), r.out);
    }

    @Test
    void countPrintsTheTinyDeepseekExample() {
        Result r = run("count", "examples/tiny_deepseek.json");
        assertEquals(0, r.code, r.err);
        // untied tok_emb + lm_head 2 × 32,768, final norm 128; MLA per layer: q_down 48·128, q_norm 48, q_up 192·48,
        // kv_down 64·128, kv_norm 64, k_rope 16·128, k_up 128·64, v_up 128·64, proj 128² = 58,480, two norms 256;
        // layer 0 dense SwiGLU 3·128·512; layers 1-2: router 8·128, balance bias 8, 8 experts 3·128², shared 3·128²
        // active: 2 of 8 experts in layers 1 and 2: 1,325,280 − 2·6·3·128²
        assertTrue(r.out.contains("parameters                  1,325,280"), r.out);
        assertTrue(r.out.contains("active parameters             735,456"), r.out);
        // the latent cache: 3 layers × (64 + 16) floats against MHA's 4 heads × (48 + 32)
        assertTrue(r.out.contains("kv cache: 960 bytes/token (fp32), MHA with the same heads and head dims: 3,840 bytes/token (4.00x)"), r.out);
    }

    @Test
    void countPrintsParameterGolfBaselineCount() {
        Result r = run("count", "examples/parameter_golf_baseline.json");
        assertEquals(0, r.code, r.err);
        // the seed's GPT: tok_emb 524,288 + skip_weights 4×512 + 9 × (attention 786,432 + MLP 1,048,576
        // + q_gain 8 + attn_scale 512 + mlp_scale 512 + resid_mix 2×512)
        assertTrue(r.out.contains("parameters                 17,059,912"), r.out);
    }

    @Test
    void validatePrintsOneSummaryLine() {
        Result r = run("validate", "examples/tiny.json");
        assertEquals(0, r.code, r.err);
        assertEquals(1, r.out.strip().lines().count(), r.out);
        assertTrue(r.out.startsWith("ok: tiny"), r.out);
    }

    @Test
    void recurrentExamplesValidateAndCount() {
        // the counts are checked against hand formulas in RecurrentBlocksTest; here: the CLI path
        for (String[] e : new String[][] {{"retnet", "565,888"}, {"mlstm", "469,648"}, {"rwkv", "528,000"}}) {
            Result v = run("validate", "examples/tiny_" + e[0] + ".json");
            assertEquals(0, v.code, v.err);
            assertTrue(v.out.startsWith("ok: tiny_" + e[0]), v.out);
            Result c = run("count", "examples/tiny_" + e[0] + ".json");
            assertEquals(0, c.code, c.err);
            assertTrue(c.out.contains("parameters                    " + e[1]), c.out);
        }
    }

    @Test
    void misspeltKeyNamesThePathAndTheFix() throws IOException {
        Path c = config("{\"modle_dim\": 16, \"seq_len\": 8, \"blocks\": [{\"type\": \"plain\", \"heads\": 2}]}");
        assertOneLineError(run("validate", c.toString()), "m.json", "/modle_dim", "model_dim");
    }

    @Test
    void impossibleValuesAreRejectedBeforeAnythingRuns() throws IOException {
        Path c = config("{\"model_dim\": 16, \"seq_len\": 8, \"blocks\": [{\"type\": \"plain\", \"heads\": 3}]}");
        assertOneLineError(run("train", c.toString()), "/blocks/0/heads");
    }

    @Test
    void missingDataFileIsOneLine() throws IOException {
        Path c = config(TINY.formatted(""));
        assertOneLineError(run("train", c.toString(), "--train", tmp.resolve("nope.txt").toString()), "nope.txt");
    }

    @Test
    void truncatedShardIsOneLine() throws IOException {
        Path shard = tmp.resolve("bad.bin");
        ByteBuffer b = ByteBuffer.allocate(1024 + 10).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(20240520).putInt(1).putInt(100);
        Files.write(shard, b.array());
        Path c = config(TINY.formatted(""));
        assertOneLineError(run("train", c.toString(), "--train", shard.toString()), "bad.bin");
    }

    @Test
    void tokenIdBeyondVocabIsOneLine() throws IOException {
        Path shard = tmp.resolve("big.bin");
        int n = 64;
        ByteBuffer b = ByteBuffer.allocate(1024 + 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(20240520).putInt(1).putInt(n);
        b.position(1024);
        for (int i = 0; i < n; i++) b.putShort((short) (i == 40 ? 300 : i));
        Files.write(shard, b.array());
        Path c = config(TINY.formatted(""));
        assertOneLineError(run("train", c.toString(), "--train", shard.toString()), "big.bin", "300", "vocab_size");
    }

    @Test
    void dataShorterThanAWindowIsOneLine() throws IOException {
        Path txt = tmp.resolve("short.txt");
        Files.writeString(txt, "abc");
        Path c = config(TINY.formatted(""));
        assertOneLineError(run("train", c.toString(), "--train", txt.toString()), "short.txt");
    }

    @Test
    void badDeviceAndDurationAreOneLine() throws IOException {
        Path c = config(TINY.formatted(""));
        assertOneLineError(run("train", c.toString(), "--device", "tpu"), "--device");
        assertOneLineError(run("train", c.toString(), "--time-budget", "soon"), "--time-budget");
    }

    @Test
    void doctorNamesWhatIsMissing() {
        Result r = run("doctor");
        assertTrue(r.out.contains("java 25") || r.out.contains("java " + Runtime.version().feature()), r.out);
        if (dev.mixlab.backend.cuda.CudaBackend.unavailable() != null) {
            assertEquals(1, r.code);
            assertTrue(r.out.lines().anyMatch(l -> l.startsWith("FAIL") && l.contains("install")), r.out);
        } else {
            assertEquals(0, r.code, r.out);
        }
    }

    @Test
    void seedCommandLineMapsToTrain() {
        assertArrayEquals(new String[] {"train", "m.json", "--train", "data/*.bin"},
                Main.seedStyle(new String[] {"-config", "m.json", "-train", "data/*.bin"}));
    }

    @Test
    void raceRefusesIncomparableConfigsBeforeTraining() throws IOException {
        Path a = tmp.resolve("a.json"), b = tmp.resolve("b.json");
        Files.writeString(a, TINY.formatted(""));
        Files.writeString(b, TINY.formatted(", \"vocab_size\": 300"));
        Path out = tmp.resolve("race");
        assertOneLineError(run("race", a.toString(), b.toString(), "--train", "data/tinyshakespeare.txt", "--steps", "2",
                "--out", out.toString()), "vocab_size", "(a 256, b 300)");
        assertFalse(Files.exists(out), "nothing trained");
        assertOneLineError(run("race", a.toString(), "--steps", "2", "--time-budget", "5s"), "one budget");
        assertOneLineError(run("race", a.toString(), "--seeds", "x"), "--seeds");
    }

    @Test
    void runsListsAndFiltersTheLedger() throws IOException {
        Path ledger = tmp.resolve("ledger.jsonl");
        Files.writeString(ledger, """
                {"run_id":"tiny-1","name":"tiny","config_hash":"abc","seed":1,"status":"ok","steps":3,"params":1000,"flops":2e9,"final_val_loss":4.5,"best_val_loss":4.4,"tokens":96,"wall_s":2.0,"git_commit":"0123456789abcdef0123456789abcdef01234567","device":"cpu"}
                {"run_id":"tiny-2","name":"tiny","config_hash":"abc","seed":2,"status":"crashed","steps":0,"params":-1,"flops":-1,"final_val_loss":null,"best_val_loss":null,"tokens":0,"wall_s":0.1,"git_commit":"unknown","device":"cpu"}
                {"run_id":"big-1","name":"big","config_hash":"def","seed":1,"status":"ok","steps":9,"params":5000,"flops":1e10,"final_val_loss":3.9,"best_val_loss":3.9,"tokens":900,"wall_s":61,"git_commit":"unknown","device":"cpu"}
                """);
        Result r = run("runs", "--ledger", ledger.toString());
        assertEquals(0, r.code, r.err);
        assertEquals(4, r.out.strip().lines().count(), r.out);
        assertTrue(r.out.contains("tiny-2") && r.out.contains("crashed") && r.out.contains("01234567"), r.out);
        r = run("runs", "--ledger", ledger.toString(), "--name", "tiny", "--status", "ok");
        assertEquals(2, r.out.strip().lines().count(), r.out);
        assertTrue(r.out.contains("4.5000") && !r.out.contains("big-1"), r.out);
        r = run("runs", "--ledger", ledger.toString(), "--last", "1");
        assertTrue(r.out.contains("big-1") && !r.out.contains("tiny-1") && r.out.contains("1:01"), r.out);
        // columns line up: every line puts the status column at the same place
        var lines = run("runs", "--ledger", ledger.toString()).out.lines().toList();
        int col = lines.get(0).indexOf("status");
        for (String l : lines.subList(1, lines.size())) assertTrue(l.substring(col).matches("(ok|crashed).*"), l);
        assertOneLineError(run("runs", "--ledger", ledger.toString(), "--status", "fine"), "--status");
    }
}
