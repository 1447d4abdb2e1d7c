package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.optim.OptimizerEmitter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gradient accumulation: k micro-batches in one step program give the one-big-batch step up to
 * float rounding; the sequential sampler with Muon, warmdown and accumulation trains and resumes exactly.
 */
class GradAccumTest {
    static String cfg(String optimizer, int accum) {
        return """
                {"model_dim": 16, "seq_len": 8, "norm_type": "rmsnorm",
                 "blocks": [{"type": "plain", "heads": 2, "repeat": 2}],
                 "training": {"optimizer": "%s", "lr": 0.05, "batch_tokens": 64, "grad_accum_steps": %d, "beta1": 0.0,
                              "grad_clip": 0.5}}
                """.formatted(optimizer, accum);
    }

    /** Two steps of one big batch vs 4 micro-batches: loss, gradient norm and weights agree to ~1e-5. */
    @Test
    void microBatchesEqualOneBigBatch() {
        for (String opt : new String[] {"sgd", "muon"}) {
            Config big = ConfigLoader.parse(cfg(opt, 1), "big.json"), acc = ConfigLoader.parse(cfg(opt, 4), "acc.json");
            int batch = Programs.batch(big), seq = big.seqLen(), k = 4, mb = batch / k;
            Program pb = Programs.trainStep(big, batch), pa = Programs.trainStep(acc, batch);
            assertEquals(pb.parameterCount(), pa.parameterCount());
            Random rnd = new Random(7);
            try (Executable eb = new CpuBackend().compile(pb); Executable ea = new CpuBackend().compile(pa)) {
                ParamInit.apply(eb, 3);
                ParamInit.apply(ea, 3);
                for (Executable e : new Executable[] {eb, ea}) e.setFloats(Programs.GRAD_SEED, new float[] {1f});
                for (int s = 0; s < 2; s++) {
                    int[] x = new int[batch * seq], y = new int[batch * seq];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = rnd.nextInt(256);
                        y[i] = rnd.nextInt(256);
                    }
                    eb.setInts(Programs.IDS, x);
                    eb.setInts(Programs.TARGETS, y);
                    for (int i = 0; i < k; i++) {
                        ea.setInts("ids." + i, Arrays.copyOfRange(x, i * mb * seq, (i + 1) * mb * seq));
                        ea.setInts("targets." + i, Arrays.copyOfRange(y, i * mb * seq, (i + 1) * mb * seq));
                    }
                    for (Executable e : new Executable[] {eb, ea}) {
                        e.setFloats(OptimizerEmitter.LR, new float[] {0.05f});
                        e.setFloats(OptimizerEmitter.STEP, new float[] {s + 1});
                        if (opt.equals("muon")) e.setFloats(OptimizerEmitter.MUON_MOMENTUM, new float[] {0.9f});
                        e.run();
                    }
                    assertEquals(eb.scalar(Programs.LOSS), ea.scalar(Programs.LOSS), 1e-5, opt + " loss at step " + s);
                    assertEquals(eb.scalar(Programs.GRAD_NORM), ea.scalar(Programs.GRAD_NORM), 1e-5 * eb.scalar(Programs.GRAD_NORM),
                            opt + " grad norm at step " + s);
                }
                for (Value p : pb.params()) {
                    float[] wb = eb.getFloats(p.name()), wa = ea.getFloats(p.name());
                    for (int i = 0; i < wb.length; i++) assertEquals(wb[i], wa[i], 1e-5, opt + " " + p.name() + "[" + i + "]");
                }
            }
        }
    }

    @TempDir
    Path tmp;

    static final String RUN = """
            {"name": "seq", "model_dim": 16, "seq_len": 16, "norm_type": "rmsnorm",
             "blocks": [{"type": "plain", "heads": 2, "repeat": 1}],
             "training": {"steps": 8, "optimizer": "muon", "schedule": "warmdown", "warmdown_steps": 4,
                          "muon_momentum_warmup_steps": 4, "micro_batch_tokens": 32, "batch_tokens": 64,
                          "sampler": "sequential", "grad_clip": 0, "log_every_steps": 1, "val_tokens": 64}}
            """;

    RunSummary train(Path text, Path out, Checkpoints.Options ck) {
        Config c = ConfigLoader.parse(RUN, "seq.json");
        TrainOptions o = new TrainOptions(text.toString(), null, null, null, out, null, false, ck);
        return new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream())).run();
    }

    /** Muon + warmdown + accumulation + sequential stream: trains, and a resumed run ends bit-identical. */
    @Test
    void sequentialSamplerRunsAndResumesExactly() throws IOException {
        Path text = tmp.resolve("t.txt");
        Files.write(text, Arrays.copyOf(Files.readAllBytes(Path.of("data/tinyshakespeare.txt")), 3_000));
        RunSummary full = train(text, tmp.resolve("full"), Checkpoints.Options.NONE);
        assertEquals("ok", full.status());
        assertEquals(8, full.steps());
        assertTrue(full.lastLoss() < full.firstLoss(), full.firstLoss() + " -> " + full.lastLoss());
        Path part = tmp.resolve("part");
        RunSummary stopped = train(text, part, new Checkpoints.Options(0, 3, null, 3));
        assertEquals("interrupted", stopped.status());
        RunSummary resumed = train(text, part, new Checkpoints.Options(0, 3, part, null));
        assertEquals(full.lastLoss(), resumed.lastLoss());
        try (SafetensorsFile a = Safetensors.read(tmp.resolve("full/model.safetensors"));
             SafetensorsFile b = Safetensors.read(part.resolve("model.safetensors"))) {
            for (String n : a.names()) assertArrayEquals(a.tensor(n).floats(), b.tensor(n).floats(), n);
        }
    }
}
