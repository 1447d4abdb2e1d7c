package dev.mixlab.cli;

import dev.mixlab.backend.Backend;
import dev.mixlab.config.Config;
import dev.mixlab.train.Checkpoints;
import dev.mixlab.train.GolfRun;
import dev.mixlab.train.RunSummary;
import dev.mixlab.train.TrainOptions;
import dev.mixlab.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mixlab train CONFIG}: trains and writes a run directory. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a model from a JSON config.")
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "model config (.json)")
    Path config;

    @Option(names = "--train", paramLabel = "GLOB|FILE", description = "training data: text file or token shards (*.bin)")
    String train;

    @Option(names = "--val", paramLabel = "GLOB|FILE", description = "validation data (default: config data.val, else the last 10%% of train)")
    String val;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu (default), cuda, or reference (float64, slow)")
    String device;

    @Option(names = "--steps", description = "optimizer steps (overrides training.steps)")
    Integer steps;

    @Option(names = "--time-budget", paramLabel = "DURATION", description = "stop after this much training time, e.g. 90s, 5m")
    String timeBudget;

    @Option(names = "--out", description = "run directory (default runs/<name>-<time>)")
    Path out;

    @Option(names = "--seed", description = "run seed (overrides training.seed)")
    Long seed;

    @Option(names = "--profile", description = "print where the training step's time goes, per op")
    boolean profile;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "write a checkpoint every N steps and at the end (RUN_DIR/checkpoints/step-NNNNNN/)")
    Integer checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", defaultValue = "2", description = "complete checkpoints kept (default 2)")
    int keepCheckpoints;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "continue RUN_DIR from its newest complete checkpoint (same config; exact on the CPU)")
    Path resume;

    @Option(names = "--stop-at-step", paramLabel = "N", description = "end after step N as an interruption would: checkpoint, status interrupted (the schedule stays that of the full run)")
    Integer stopAtStep;

    @Option(names = "--tokenizer-model", paramLabel = "FILE.model", description = "SentencePiece model of the data: validation covers the whole val split and reports val_bpb (overrides data.tokenizer_model)")
    Path tokenizerModel;

    @Option(names = "--eval-stride", paramLabel = "N", description = "also evaluate the final model with sliding windows advancing by N tokens (each token scored once)")
    Integer evalStride;

    @Option(names = "--int8-artifact", negatable = true, description = "end by writing, reloading and evaluating the int8+zlib artifact (default: on when a tokenizer model is given)")
    Boolean int8Artifact;

    public Integer call() {
        if (device.equals("cpu")) dev.mixlab.train.CpuWarmup.start();   // JIT-compile the kernels while data and programs load
        Config c = ConfigFiles.load(config);
        String trainPath = train != null ? train : ConfigFiles.resolveFromConfig(config, c.data().train());
        String valPath = val != null ? val : ConfigFiles.resolveFromConfig(config, c.data().val());
        if (steps != null && steps < 1) throw new UserException("--steps must be at least 1, got " + steps);
        if (checkpointEvery != null && checkpointEvery < 1) throw new UserException("--checkpoint-every must be at least 1, got " + checkpointEvery);
        if (keepCheckpoints < 1) throw new UserException("--keep-checkpoints must be at least 1, got " + keepCheckpoints);
        if (evalStride != null && (evalStride < 1 || evalStride > c.seqLen())) {
            throw new UserException("--eval-stride must be in [1, seq_len " + c.seqLen() + "], got " + evalStride);
        }
        String spModel = tokenizerModel != null ? tokenizerModel.toString() : ConfigFiles.resolveFromConfig(config, c.data().tokenizerModel());
        GolfRun.Options golf = new GolfRun.Options(spModel == null ? null : Path.of(spModel), evalStride == null ? 0 : evalStride,
                int8Artifact, config);
        if (stopAtStep != null && stopAtStep < 1) throw new UserException("--stop-at-step must be at least 1, got " + stopAtStep);
        if (resume != null && out != null && !out.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
            throw new UserException("--out " + out + " differs from --resume " + resume + "; a resumed run continues in its own directory, drop --out");
        }
        Checkpoints.Options ck = new Checkpoints.Options(checkpointEvery == null ? 0 : checkpointEvery, keepCheckpoints, resume, stopAtStep);
        Double budget = timeBudget == null ? null : DurationArg.seconds(timeBudget, "--time-budget");
        Backend b = Devices.backend(device);
        TrainOptions o = new TrainOptions(trainPath, valPath, steps, budget, out, seed, profile, ck);
        RunSummary s = new Trainer(c, o, b, new PrintStream(System.out, true)).golf(golf).run();
        return s.status().equals("ok") || s.status().equals("interrupted") ? 0 : 1;
    }
}
