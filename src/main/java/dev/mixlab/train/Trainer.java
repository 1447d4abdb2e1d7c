package dev.mixlab.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.config.TrainSpec;
import dev.mixlab.config.DataSampler;
import dev.mixlab.data.SequentialWindows;
import dev.mixlab.data.TokenStream;
import dev.mixlab.data.Splits;
import dev.mixlab.data.WindowSampler;
import dev.mixlab.data.DataException;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.Tensor;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.optim.LrSchedule;
import dev.mixlab.optim.OptimizerEmitter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: random windows from the train split, one compiled training-step program per
 * step, validation on fixed windows of the val split, a log line per interval, {@code
 * metrics.jsonl}, and the final weights as safetensors in the run directory.
 */
public final class Trainer {
    private final Config config;
    private final TrainOptions opts;
    private final Backend backend;
    private final PrintStream out;
    private final ObjectMapper json = new ObjectMapper();
    private GolfRun.Options golf = GolfRun.Options.NONE;

    public Trainer(Config config, TrainOptions opts, Backend backend, PrintStream out) {
        this.config = config;
        this.opts = opts;
        // the config's numerics: float32 throughout on a GPU when training.precision is fp32
        this.backend = backend.float32(config.training().precision() == dev.mixlab.config.Precision.FP32);
        this.out = out;
    }

    /** Parameter-golf evaluation and artifact options ({@link GolfRun}); none by default. */
    public Trainer golf(GolfRun.Options options) {
        this.golf = options == null ? GolfRun.Options.NONE : options;
        return this;
    }

    /**
     * Trains and writes the run directory. Every run, however it ends, appends one line to the
     * {@link RunLedger}: its status is the summary's, {@code crashed} when an exception ends the run
     * (the exception is rethrown), or {@code interrupted} when the JVM shuts down mid-run (Ctrl-C).
     */
    public RunSummary run() {
        long wallStart = System.nanoTime();
        TrainSpec t = config.training();
        Checkpoints.Options ck = opts.checkpoints();
        Checkpoints.Resume resume = ck.resume() == null ? null
                : Checkpoints.resume(ck.resume(), config, opts.steps(), opts.seed(), ck.stopAtStep());
        int steps = resume != null ? resume.steps() : opts.steps() != null ? opts.steps() : t.steps();
        long seed = resume != null ? resume.seed() : opts.seed() != null ? opts.seed() : t.seed();
        double budget = opts.timeBudgetSeconds() != null ? opts.timeBudgetSeconds() : t.timeBudgetSeconds();
        Path dir = resume != null ? ck.resume() : opts.out() != null ? opts.out()
                : Path.of("runs", config.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RunLedger.Entry ledger = new RunLedger.Entry(dir, config, seed, backend.name(), backend.describe(), steps, budget);
        Thread hook = new Thread(() -> ledger.write("interrupted", null), "mixlab-ledger");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            RunSummary s = train(wallStart, steps, seed, budget, dir, ledger, ck, resume);
            ledger.progress(s.steps(), s.tokens(), s.trainSeconds(), s.lastValLoss(), s.bestValLoss());
            ledger.write(s.status(), out);
            return s;
        } catch (RuntimeException | Error e) {
            ledger.write("crashed", out);
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: the ledger says interrupted
            }
        }
    }

    private RunSummary train(long wallStart, int steps, long seed, double budget, Path dir, RunLedger.Entry ledger,
                             Checkpoints.Options ck, Checkpoints.Resume resume) {
        TrainSpec t = config.training();
        TrainSpec spec = t.withRun(steps, Math.min(t.warmupSteps(), Math.max(0, steps - 1)), seed, (int) Math.ceil(budget));
        // the hard stop on training time: the time budget and max_wallclock_seconds, whichever is smaller
        if (t.maxWallclockSeconds() > 0) budget = budget > 0 ? Math.min(budget, t.maxWallclockSeconds()) : t.maxWallclockSeconds();
        String trainPath = opts.train() != null ? opts.train() : config.data().train();
        String valPath = opts.val() != null ? opts.val() : config.data().val();
        if (trainPath == null) {
            throw new DataException(config.name(), "no training data given",
                    "pass --train FILE|GLOB or set data.train in the config");
        }
        Splits splits = Splits.trainVal(trainPath, valPath, config.vocabSize());
        int seqLen = config.seqLen();
        int batch = Programs.batch(config);
        int accum = t.gradAccumSteps(), micro = batch / accum;
        boolean sequential = t.sampler() == DataSampler.SEQUENTIAL;
        WindowSampler sampler = sequential ? null : new WindowSampler(splits.train(), seed);
        TokenStream stream = sequential ? new TokenStream(splits.train()) : null;
        if (resume != null) {
            resume.checkTrainData(splits.train().size(), splits.train().describe());
            if (sequential) stream.restore(resume.state().samplerState());
            else sampler.restore(resume.state().samplerState());
        }
        SequentialWindows valWindows = new SequentialWindows(splits.val());
        int valAvail = valWindows.windows(seqLen);
        if (valAvail < 1) {
            throw new DataException(splits.val().describe(), "validation data has " + splits.val().size()
                    + " tokens, fewer than one window of seq_len+1 = " + (seqLen + 1), "give more validation data or a smaller seq_len");
        }
        int evalBatch = Math.min(batch, valAvail);
        int evalBatches = Math.max(1, Math.min(valAvail / evalBatch, Math.max(1, spec.valTokens() / (seqLen * evalBatch))));

        Program stepProgram = Programs.trainStep(config, batch);
        Program evalProgram = Programs.eval(config, evalBatch);
        createRunDir(dir);
        copyTokenizer(trainPath, dir);
        ObjectNode summaryExtra = json.createObjectNode();
        double lastBpb = Double.NaN;
        double firstLine = Double.NaN;     // seconds from the process's start to the first step line
        ledger.model(stepProgram.parameterCount(), stepProgram.flops() / ((long) batch * seqLen));
        int every = ck.every() > 0 ? ck.every() : resume != null ? resume.state().checkpointEvery() : 0;
        if (resume != null) {
            Checkpoints.State r = resume.state();
            wallStart -= (long) (r.elapsedSeconds() * 1e9);
            Checkpoints.truncateMetrics(dir.resolve("metrics.jsonl"), r.step());
            out.printf(Locale.ROOT, "resuming from %s (step %d of %d)%n", resume.found().dir(), r.step(), steps);
        }
        out.printf(Locale.ROOT, "mixlab: %s | %,d parameters | %s%n", config.name(), stepProgram.parameterCount(), backend.describe());
        out.printf(Locale.ROOT, "data: train %s (%,d tokens), val %s (%,d tokens)%s%n", splits.train().describe(),
                splits.train().size(), splits.val().describe(), splits.val().size(),
                splits.note() == null || splits.note().isBlank() ? "" : " — " + splits.note());
        out.printf(Locale.ROOT, "batch %d × %d tokens%s, %d steps, run dir %s%n", batch, seqLen,
                accum > 1 ? String.format(Locale.ROOT, " in %d micro-batches of %d", accum, micro) : "", steps, dir);
        if (!t.paramGroups().isEmpty()) printGroups(stepProgram, t);

        int[] x = new int[batch * seqLen], y = new int[batch * seqLen];
        int[][] mx = new int[accum][], my = new int[accum][];
        for (int i = 0; i < accum; i++) {
            mx[i] = accum == 1 ? x : new int[micro * seqLen];
            my[i] = accum == 1 ? y : new int[micro * seqLen];
        }
        int[] vx = new int[evalBatch * seqLen], vy = new int[evalBatch * seqLen];
        double firstLoss = Double.NaN, lastLoss = Double.NaN, bestVal = Double.NaN, lastVal = Double.NaN;
        int bestValStep = -1, done = 0;
        long tokens = 0;
        double trainSeconds = 0;
        String status = "ok";
        if (resume != null) {
            Checkpoints.State r = resume.state();
            done = r.step();
            firstLoss = r.firstLoss();
            lastLoss = r.lastLoss();
            bestVal = r.bestValLoss();
            bestValStep = r.bestValStep();
            lastVal = r.lastValLoss();
            tokens = r.tokens();
            trainSeconds = r.trainSeconds();
        }
        java.nio.file.OpenOption[] append = resume == null ? new java.nio.file.OpenOption[0]
                : new java.nio.file.OpenOption[] {java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND};
        try (Executable step = backend.compile(stepProgram); Executable eval = backend.compile(evalProgram);
             GolfRun golfRun = GolfRun.open(config, golfOptions(), splits.val(), backend, evalBatch, eval, out);
             Writer metrics = Files.newBufferedWriter(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8, append)) {
            ParamInit.apply(step, seed);
            if (resume != null) Checkpoints.restore(resume.found(), step);
            step.setProfiling(opts.profile());
            StatusLine live = StatusLine.of(out);
            CpuWarmup.stop();
            float[] scalarF = new float[1];
            int[] scalarI = new int[1];
            boolean hasSeed = stepProgram.inputs().stream().anyMatch(v -> v.name().equals(Programs.micro(Programs.SEED, 0, accum)));
            boolean hasMomentum = stepProgram.inputs().stream().anyMatch(v -> v.name().equals(OptimizerEmitter.MUON_MOMENTUM));
            step.setFloats(Programs.GRAD_SEED, new float[] {1f});
            double intervalLoss = 0, intervalAux = 0;
            java.util.ArrayDeque<PendingLoss> pending = new java.util.ArrayDeque<>();
            boolean hasAux = step.program().outputs().containsKey(Programs.AUX_LOSS);
            boolean moeFresh = false;
            int intervalSteps = 0;
            long intervalTokens = 0;
            double intervalSeconds = 0;
            if (resume != null) {
                Checkpoints.State r = resume.state();
                intervalLoss = r.intervalLoss();
                intervalSteps = r.intervalSteps();
                intervalTokens = r.intervalTokens();
                intervalSeconds = r.intervalSeconds();
            }
            for (int s = done; s < steps; s++) {
                double lr = LrSchedule.at(spec, s, trainSeconds);
                if (sequential) {
                    for (int i = 0; i < accum; i++) stream.next(mx[i], my[i], micro * seqLen, seqLen);
                } else {
                    sampler.next(x, y, batch, seqLen);
                    if (accum > 1) {
                        for (int i = 0; i < accum; i++) {
                            System.arraycopy(x, i * micro * seqLen, mx[i], 0, micro * seqLen);
                            System.arraycopy(y, i * micro * seqLen, my[i], 0, micro * seqLen);
                        }
                    }
                }
                long t0 = System.nanoTime();
                for (int i = 0; i < accum; i++) {
                    step.setInts(Programs.micro(Programs.IDS, i, accum), mx[i]);
                    step.setInts(Programs.micro(Programs.TARGETS, i, accum), my[i]);
                }
                scalarF[0] = (float) lr;
                step.setFloats(OptimizerEmitter.LR, scalarF);
                scalarF[0] = s + 1;
                step.setFloats(OptimizerEmitter.STEP, scalarF);
                if (hasSeed) {
                    for (int i = 0; i < accum; i++) {
                        scalarI[0] = stepSeed(seed, accum == 1 ? s : s * accum + i);
                        step.setInts(Programs.micro(Programs.SEED, i, accum), scalarI);
                    }
                }
                if (hasMomentum) {
                    scalarF[0] = (float) spec.muonMomentumAt(s);
                    step.setFloats(OptimizerEmitter.MUON_MOMENTUM, scalarF);
                }
                step.run();
                // the loss is read back asynchronously: the host waits for step s only while step s+1 is
                // queued, or when this step logs, evaluates, checkpoints or ends
                pending.add(new PendingLoss(s + 1, step.scalarLater(Programs.LOSS), hasAux ? step.scalarLater(Programs.AUX_LOSS) : null));
                done = s + 1;
                tokens += (long) batch * seqLen;
                intervalTokens += (long) batch * seqLen;
                double launched = (System.nanoTime() - t0) / 1e9;
                boolean last = done == steps || (budget > 0 && trainSeconds + launched >= budget);
                boolean evalNow = last || (spec.valEverySteps() > 0 && done % spec.valEverySteps() == 0);
                boolean logNow = done == 1 || done % spec.logEverySteps() == 0 || evalNow;
                boolean stopNow = ck.stopAtStep() != null && done == ck.stopAtStep();
                boolean ckNow = stopNow || (every > 0 && (last || done % every == 0));
                int keep = logNow || ckNow || last || live.live() ? 0 : 1;
                int divergedAt = -1;
                double divergedLoss = 0;
                while (pending.size() > keep) {
                    PendingLoss pl = pending.poll();
                    double l = pl.loss().get();
                    if (pl.step() == 1) firstLoss = l;
                    lastLoss = l;
                    intervalLoss += l;
                    if (pl.aux() != null) intervalAux += pl.aux().get();
                    intervalSteps++;
                    if (!Double.isFinite(l) && divergedAt < 0) {
                        divergedAt = pl.step();
                        divergedLoss = l;
                    }
                }
                double dt = (System.nanoTime() - t0) / 1e9;
                trainSeconds += dt;
                intervalSeconds += dt;
                if (divergedAt >= 0) {
                    status = "diverged";
                    live.clear();
                    out.printf(Locale.ROOT, "step %d: loss is %s; stopping (lower lr or enable grad_clip)%n", divergedAt, divergedLoss);
                    break;
                }
                if (evalNow) {
                    if (golfRun != null && golfRun.replacesValidation()) {
                        ValEval.Result r = golfRun.validate(step);
                        lastVal = r.loss();
                        lastBpb = r.bpb();
                    } else {
                        lastVal = evaluate(step, eval, valWindows, vx, vy, evalBatch, evalBatches);
                        moeFresh = moe.any();
                    }
                    if (!(lastVal >= bestVal)) {
                        bestVal = lastVal;
                        bestValStep = done;
                    }
                }
                if (logNow) {
                    double meanLoss = intervalLoss / intervalSteps;
                    double tps = intervalTokens / Math.max(1e-9, intervalSeconds);
                    double elapsed = (System.nanoTime() - wallStart) / 1e9;
                    double eta = (steps - done) * (trainSeconds / done);
                    boolean valFresh = evalNow;
                    String lrText = spec.paramGroups().isEmpty() ? String.format(Locale.ROOT, "lr %.2e", lr)
                            : String.format(Locale.ROOT, "lr ×%.3f", lr / spec.lr());
                    live.clear();
                    if (Double.isNaN(firstLine)) firstLine = secondsSinceStart();
                    out.printf(Locale.ROOT, "step %6d/%d | loss %.4f%s%s | %s | %,.0f tok/s | %s elapsed | ETA %s%n",
                            done, steps, meanLoss,
                            hasAux ? String.format(Locale.ROOT, " | aux %.4f", intervalAux / intervalSteps) : "", valFresh ? String.format(Locale.ROOT, " | val %.4f", lastVal)
                                    + (Double.isNaN(lastBpb) ? "" : String.format(Locale.ROOT, " bpb %.4f", lastBpb)) : "",
                            lrText, tps, Durations.format(elapsed), Durations.format(budget > 0 ? Math.min(eta, budget - trainSeconds) : eta));
                    ObjectNode m = json.createObjectNode();
                    m.put("step", done).put("loss", meanLoss).put("lr", lr).put("lr_mul", lr / spec.lr())
                            .put("grad_norm", step.scalar(Programs.GRAD_NORM)).put("tokens", tokens)
                            .put("tok_per_s", tps).put("train_s", trainSeconds).put("elapsed_s", elapsed);
                    if (hasAux) m.put("aux_loss", intervalAux / intervalSteps);
                    if (valFresh) m.put("val_loss", lastVal);
                    if (valFresh && moeFresh) {
                        out.println("  " + moe.line());
                        moe.put(m);
                        moeFresh = false;
                    }
                    if (valFresh && !Double.isNaN(lastBpb)) m.put("val_bpb", lastBpb);
                    metrics.write(json.writeValueAsString(m));
                    metrics.write('\n');
                    metrics.flush();
                    intervalLoss = 0;
                    intervalAux = 0;
                    intervalSteps = 0;
                    intervalTokens = 0;
                    intervalSeconds = 0;
                }
                ledger.progress(done, tokens, trainSeconds, lastVal, bestVal);
                if (live.live()) {
                    live.update(String.format(Locale.ROOT, "step %d/%d | loss %.4f%s | %,.0f tok/s | ETA %s", done, steps, lastLoss,
                            Double.isNaN(lastVal) ? "" : String.format(Locale.ROOT, " | val %.4f", lastVal),
                            tokens / Math.max(1e-9, trainSeconds), Durations.format((steps - done) * (trainSeconds / done))));
                }
                boolean stop = ck.stopAtStep() != null && done == ck.stopAtStep() && !last;
                if (stop) {
                    live.clear();
                    status = "interrupted";
                    out.printf(Locale.ROOT, "step %d: stopping as asked (--stop-at-step); continue with --resume %s%n", done, dir);
                }
                if (stop || (every > 0 && (last || done % every == 0))) {
                    Checkpoints.save(dir, new Checkpoints.State(done, steps, seed,
                            sequential ? stream.position() : sampler.state(), ConfigWriter.hash(config),
                            Checkpoints.configTree(config), splits.train().size(), tokens, trainSeconds,
                            (System.nanoTime() - wallStart) / 1e9, firstLoss, lastLoss, bestVal, bestValStep, lastVal,
                            intervalLoss, intervalSteps, intervalTokens, intervalSeconds, every, ck.keep()), step, ck.keep());
                }
                if (last || stop) {
                    live.clear();
                    break;
                }
            }
            writeWeights(step, stepProgram, dir.resolve("model.safetensors"));
            if (!Double.isNaN(lastBpb)) summaryExtra.put("last_val_bpb", lastBpb);
            if (golfRun != null && status.equals("ok")) golfRun.finish(step, stepProgram, dir, summaryExtra);
            if (opts.profile()) printProfile(step.profile(), done);
            if (step.deviceBytes() > 0) {
                out.printf(Locale.ROOT, "device memory: %.0f MiB (training step %.0f MiB + evaluation %.0f MiB, planned from the IR)%n",
                        (step.deviceBytes() + eval.deviceBytes()) / 1048576.0, step.deviceBytes() / 1048576.0, eval.deviceBytes() / 1048576.0);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double wall = (System.nanoTime() - wallStart) / 1e9;
        RunSummary sum = new RunSummary(dir, done, firstLoss, lastLoss, bestVal, bestValStep, lastVal, wall, trainSeconds,
                tokens, stepProgram.parameterCount(), status);
        out.printf(Locale.ROOT, "done: %d steps in %s (%,.0f tok/s) | loss first %.4f last %.4f | val last %.4f, best %.4f at step %d%n",
                done, Durations.format(wall), sum.tokensPerSecond(), firstLoss, lastLoss, lastVal, bestVal, bestValStep);
        if (!Double.isNaN(firstLine)) {
            out.printf(Locale.ROOT, "start-up: first step line %.1f s after the command started%n", firstLine);
            summaryExtra.put("first_line_s", firstLine);
        }
        out.printf(Locale.ROOT, "weights: %s%n", dir.resolve("model.safetensors"));
        writeSummary(dir, sum, summaryExtra);
        return sum;
    }

    /**
     * Seconds since this process started (NaN where the OS does not say). The launcher {@code exec}s the
     * JVM, so the process is the command's: this measures "the first loss line within N seconds of the
     * command", including a build the launcher ran first.
     */
    static double secondsSinceStart() {
        return ProcessHandle.current().info().startInstant()
                .map(t -> java.time.Duration.between(t, java.time.Instant.now()).toNanos() / 1e9).orElse(Double.NaN);
    }

    /** One line per param group: its optimizer, lr and how many tensors and weights it takes. */
    private void printGroups(Program p, TrainSpec t) {
        Map<Value, dev.mixlab.config.ParamGroup> route = OptimizerEmitter.route(t.paramGroups(),
                p.params().stream().filter(v -> !v.tags().contains(dev.mixlab.arch.RouterTap.BUFFER)).toList());
        for (dev.mixlab.config.ParamGroup g : t.paramGroups()) {
            long tensors = route.values().stream().filter(g::equals).count();
            if (tensors == 0) continue;
            long weights = route.entrySet().stream().filter(e -> e.getValue().equals(g)).mapToLong(e -> e.getKey().shape().size()).sum();
            out.printf(Locale.ROOT, "group %s: %s lr %.3g, %d tensors, %,d weights%n", g.name(), g.optimizer().jsonName(), g.lr(),
                    tensors, weights);
        }
    }

    private void printProfile(Map<String, long[]> prof, int steps) {
        long total = 0;
        for (long[] v : prof.values()) total += v[0];
        out.printf(Locale.ROOT, "profile: %.1f ms per training step, by op%n", total / 1e6 / Math.max(1, steps));
        final long tot = Math.max(1, total);
        prof.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                out.printf(Locale.ROOT, "  %-20s %6.1f%%  %8.2f ms/step  (%d nodes)%n", e.getKey(), 100.0 * e.getValue()[0] / tot,
                        e.getValue()[0] / 1e6 / Math.max(1, steps), e.getValue()[1]));
    }

    /** The dropout seed of step s: a mix of the run seed and the step, so masks differ per step. */
    static int stepSeed(long seed, int step) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 29));
    }

    /** Expert loads and dropped counts of the last validation pass (mixture-of-experts models). */
    private MoeStats moe;

    private double evaluate(Executable step, Executable eval, SequentialWindows windows, int[] vx, int[] vy,
                            int evalBatch, int evalBatches) {
        for (Value p : eval.program().params()) eval.setFloats(p.name(), step.getFloats(p.name()));
        if (moe == null) moe = new MoeStats(eval.program());
        moe.reset();
        double sum = 0;
        for (int i = 0; i < evalBatches; i++) {
            windows.fill(vx, vy, i * evalBatch, evalBatch, config.seqLen());
            eval.setInts(Programs.IDS, vx);
            eval.setInts(Programs.TARGETS, vy);
            eval.run();
            sum += eval.scalar(Programs.LOSS);
            moe.add(eval);
        }
        return sum / evalBatches;
    }

    // The options' tokenizer model, else the config's data.tokenizer_model (relative to the working directory).
    private GolfRun.Options golfOptions() {
        if (golf.tokenizerModel() != null || config.data().tokenizerModel() == null) return golf;
        return new GolfRun.Options(Path.of(config.data().tokenizerModel()), golf.evalStride(), golf.int8Artifact(), golf.configFile());
    }

    /** A prepared data directory's tokenizer travels with the run, so generate and report can decode ids. */
    private static void copyTokenizer(String trainPath, Path dir) {
        Path tok = Path.of(trainPath).resolve("tokenizer.json");
        if (Files.isDirectory(Path.of(trainPath)) && Files.exists(tok)) {
            try {
                Files.copy(tok, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy " + tok + " into the run directory: " + e.getMessage(), e);
            }
        }
    }

    private void createRunDir(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), ConfigWriter.toJson(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the run directory: " + e.getMessage(), e);
        }
    }

    static void writeWeights(Executable e, Program p, Path file) {
        Map<String, Tensor> ts = new LinkedHashMap<>();
        for (Value v : p.params()) {
            long[] shape = java.util.Arrays.stream(v.shape().dims()).asLongStream().toArray();
            ts.put(v.name(), Tensor.ofFloats(shape, e.getFloats(v.name())));
        }
        Safetensors.write(file, ts, Map.of("format", "mixlab", "program", p.name()));
    }

    private void writeSummary(Path dir, RunSummary s, ObjectNode extra) {
        ObjectNode n = json.createObjectNode();
        n.put("name", config.name()).put("config_hash", ConfigWriter.hash(config)).put("status", s.status())
                .put("steps", s.steps()).put("parameters", s.parameters()).put("tokens", s.tokens())
                .put("first_loss", s.firstLoss()).put("last_loss", s.lastLoss()).put("best_val_loss", s.bestValLoss())
                .put("best_val_step", s.bestValStep()).put("last_val_loss", s.lastValLoss())
                .put("wall_s", s.wallSeconds()).put("train_s", s.trainSeconds()).put("tok_per_s", s.tokensPerSecond())
                .put("backend", backend.name());
        n.setAll(extra);
        try {
            Files.writeString(dir.resolve("summary.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A step's loss (and MoE aux loss) whose read-back is queued but not yet waited for. */
    private record PendingLoss(int step, Executable.PendingScalar loss, Executable.PendingScalar aux) {}
}
