package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.data.ShardTokens;
import dev.mixlab.data.TokenData;
import dev.mixlab.golf.Int8Artifact;
import dev.mixlab.golf.TokenBytes;
import dev.mixlab.tokenizer.SentencePieceModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full-split and sliding validation, and the golf end of a training run (val_bpb, int8 artifact). */
class GolfEvalTest {
    static final Path MODEL = Path.of("src/test/resources/sp/shakespeare_1024_bpe.model");
    static final String CFG = """
            {"name": "g", "model_dim": 16, "seq_len": 16, "vocab_size": 1024,
             "blocks": [{"type": "plain", "heads": 2}],
             "training": {"steps": 4, "lr": 3e-3, "warmup_steps": 1, "batch_tokens": 48,
                          "log_every_steps": 2, "val_every_steps": 2, "val_tokens": 32}}
            """;

    @TempDir
    Path tmp;

    static int[] randomTokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i % 40 == 0 ? 1 : 4 + r.nextInt(1020); // BOS now and then
        return t;
    }

    static TokenData data(int[] ids) {
        return new TokenData() {
            public long size() {
                return ids.length;
            }

            public int get(long i) {
                return ids[(int) i];
            }

            public String describe() {
                return "test tokens";
            }
        };
    }

    @Test
    void slidingPlanScoresEveryTargetOnceWithContext() {
        for (int stride : new int[] {1, 3, 5, 16}) {
            long targets = 100;
            int seqLen = 16;
            long[][] plan = ValEval.slidingPlan(targets, seqLen, stride);
            int[] seen = new int[(int) targets + 1];
            for (long[] w : plan) {
                assertTrue(w[0] >= 0 && w[0] + seqLen <= targets, "window " + w[0]);
                for (long p = w[1]; p < seqLen; p++) {
                    seen[(int) (w[0] + p + 1)]++;
                    if (w[0] > 0) assertTrue(p >= seqLen - stride, "context of target " + (w[0] + p + 1));
                }
            }
            for (int t = 1; t <= targets; t++) assertEquals(1, seen[t], "target " + t + " stride " + stride);
            assertEquals(0, seen[0]);
        }
        assertEquals(1, ValEval.slidingPlan(16, 16, 4).length);
    }

    @Test
    void fullSplitLossMatchesLogitsAndSlidingAgrees() {
        Config c = ConfigLoader.parse(CFG, "g.json");
        CpuBackend backend = new CpuBackend();
        int[] ids = randomTokens(16 * 7 + 1 + 3, 11); // 7 windows, 3 tokens left over
        TokenData val = data(ids);
        Map<String, float[]> params = ParamInit.values(Programs.forward(c, 1), 5);
        TokenBytes table = TokenBytes.of(SentencePieceModel.read(MODEL), 1024);
        double want = 0;
        try (Executable f = new CpuBackend().compile(Programs.forward(c, 1))) {
            params.forEach(f::setFloats);
            for (int w = 0; w < 7; w++) {
                f.setInts(Programs.IDS, java.util.Arrays.copyOfRange(ids, w * 16, w * 16 + 16));
                f.setInts(Programs.TARGETS, java.util.Arrays.copyOfRange(ids, w * 16 + 1, w * 16 + 17));
                f.run();
                float[] logits = f.getFloats("logits");
                for (int p = 0; p < 16; p++) want += ValEval.nll(logits, p * 1024, 1024, ids[w * 16 + p + 1]);
            }
        }
        want /= 7 * 16;
        try (ValEval e = new ValEval(c, backend, val, table, 3)) { // 2 full batches of 3 and one of 1
            assertEquals(112, e.targets());
            long bytes = table.count(val, 1, 113);
            assertEquals(bytes, e.bytes());
            ValEval.Result r = e.evaluate(params::get);
            assertEquals(want, r.loss(), 1e-5 * want);
            assertEquals(112, r.tokens());
            assertEquals(r.loss() / Math.log(2) * 112 / bytes, r.bpb(), 1e-12);
            ValEval.Result same = e.evaluateSliding(params::get, 16); // stride = seq_len: the same windows
            assertEquals(r.loss(), same.loss(), 1e-5 * want);
            assertEquals(r.bpb(), same.bpb(), 1e-5 * r.bpb());
            ValEval.Result slid = e.evaluateSliding(params::get, 4);
            assertTrue(Double.isFinite(slid.loss()) && slid.bytes() == bytes && slid.stride() == 4);
            assertNotEquals(r.loss(), slid.loss());
        }
        try (Executable shared = backend.compile(Programs.eval(c, 3)); ValEval e = new ValEval(c, backend, val, table, 3, shared)) {
            assertEquals(want, e.evaluate(params::get).loss(), 1e-5 * want); // the shared program does the full batches
        }
        try (ValEval e = new ValEval(c, backend, val, null, 8)) {
            ValEval.Result r = e.evaluate(params::get);
            assertFalse(r.hasBpb());
            assertEquals(want, r.loss(), 1e-5 * want);
        }
    }

    static Path shard(Path file, int[] tokens) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1024 + 2 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, ShardTokens.MAGIC).putInt(4, 1).putInt(8, tokens.length);
        for (int i = 0; i < tokens.length; i++) b.putShort(1024 + 2 * i, (short) tokens[i]);
        Files.write(file, b.array());
        return file;
    }

    @Test
    void trainingWithATokenizerModelReportsBpbAndWritesTheArtifact() throws IOException {
        Path cfgFile = tmp.resolve("g.json");
        Files.writeString(cfgFile, CFG);
        Config c = ConfigLoader.load(cfgFile);
        Path train = shard(tmp.resolve("d_train_000000.bin"), randomTokens(3000, 1));
        Path val = shard(tmp.resolve("d_val_000000.bin"), randomTokens(16 * 5 + 1, 2));
        Path out = tmp.resolve("run");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainOptions o = new TrainOptions(train.toString(), val.toString(), null, null, out, null);
        RunSummary s = new Trainer(c, o, new CpuBackend(), new PrintStream(log, true, StandardCharsets.UTF_8))
                .golf(new GolfRun.Options(MODEL, 8, null, cfgFile)).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals("ok", s.status(), text);
        assertTrue(text.contains("golf: val_bpb with"), text);
        assertTrue(text.matches("(?s).*step +2/4 \\| loss [0-9.]+ \\| val [0-9.]+ bpb [0-9.]+ .*"), text);
        assertTrue(text.contains("final_sliding_window stride:8 val_loss:"), text);
        assertTrue(text.matches("(?s).*final_int8_zlib_roundtrip val_loss:[0-9.]+ val_bpb:[0-9.]+ eval_time:.*"), text);
        assertTrue(text.contains("final_int8_zlib_roundtrip_exact val_loss:"), text);
        assertTrue(text.contains("final_int8_zlib_roundtrip_sliding stride:8"), text);
        assertTrue(text.contains("total_submission_size code:" + Files.size(cfgFile)), text);

        ObjectMapper om = new ObjectMapper();
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        JsonNode m2 = om.readTree(metrics.get(1));
        assertEquals(2, m2.get("step").asInt());
        assertTrue(m2.has("val_bpb") && m2.get("val_bpb").asDouble() > 0);
        JsonNode sum = om.readTree(out.resolve("summary.json").toFile());
        long size = Files.size(out.resolve(GolfRun.ARTIFACT));
        assertEquals(size, sum.get("int8_zlib_bytes").asLong());
        assertEquals(Files.size(cfgFile) + size, sum.get("total_bytes").asLong());
        double last = sum.get("last_val_bpb").asDouble(), q = sum.get("int8_roundtrip_val_bpb").asDouble();
        assertEquals(last, q, 0.05 * last, "int8 round trip changes val_bpb a little");
        assertTrue(sum.has("sliding_val_bpb") && sum.has("int8_roundtrip_sliding_val_bpb"));
        // the artifact holds the run's parameters: all small here, so float16 passthrough
        Int8Artifact.Quantized art = Int8Artifact.deserialize(Int8Artifact.decompress(Files.readAllBytes(out.resolve(GolfRun.ARTIFACT))));
        assertEquals(s.parameters(), art.paramCount());
    }

    @Test
    void noTokenizerModelNoGolf() throws IOException {
        Path cfgFile = tmp.resolve("g.json");
        Files.writeString(cfgFile, CFG);
        Config c = ConfigLoader.load(cfgFile);
        Path train = shard(tmp.resolve("d_train_000000.bin"), randomTokens(3000, 1));
        Path out = tmp.resolve("plain");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        new Trainer(c, new TrainOptions(train.toString(), null, null, null, out, null), new CpuBackend(),
                new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        assertFalse(log.toString(StandardCharsets.UTF_8).contains("golf:"));
        assertFalse(Files.exists(out.resolve(GolfRun.ARTIFACT)));
        assertFalse(Files.readString(out.resolve("summary.json")).contains("bpb"));
    }
}
