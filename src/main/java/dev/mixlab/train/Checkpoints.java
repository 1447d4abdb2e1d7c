package dev.mixlab.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.backend.Executable;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsException;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.io.Tensor;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints of a training run and exact resume. A checkpoint is the directory
 * {@code RUN_DIR/checkpoints/step-000123/} holding {@code model.safetensors} (parameters),
 * {@code optimizer.safetensors} (the training step's state leaves: AdamW moments etc.),
 * {@code trainer.json} (step, sampler state, counters, config) and, written last as the commit
 * mark, {@code manifest.json} (size and SHA-256 of each other file). Every file is written under a
 * {@code .tmp} name, flushed to disk and renamed; a directory without a manifest, or whose files
 * do not match it, is not a checkpoint. See {@code docs/checkpoints.md}.
 */
public final class Checkpoints {
    private Checkpoints() {}

    public static final String DIR = "checkpoints", MODEL = "model.safetensors", OPTIMIZER = "optimizer.safetensors",
            TRAINER = "trainer.json", MANIFEST = "manifest.json", TMP = ".tmp";
    static final int FORMAT = 1;
    private static final List<String> FILES = List.of(MODEL, OPTIMIZER, TRAINER);
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{6,})");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Config fields a resume may change: the total steps (extends or shortens the schedule) and the time budget. */
    static final Set<String> RESUMABLE_FIELDS = Set.of("training.steps", "training.time_budget_seconds");

    /** Test hook: milliseconds to wait with each {@code .tmp} file in place before its rename (to kill a writer mid-checkpoint). */
    private static final long PAUSE_MS = Long.getLong("mixlab.checkpoint.pause-ms", 0L);

    /**
     * How a run checkpoints and resumes.
     *
     * @param every      write a checkpoint every N steps and at the end; 0: none (a resumed run keeps its checkpoint's N)
     * @param keep       complete checkpoints kept (older ones are deleted)
     * @param resume     continue this run directory from its newest complete checkpoint; null: a new run
     * @param stopAtStep end as an interruption would after this step (checkpoint, status interrupted); null: no stop
     */
    public record Options(int every, int keep, Path resume, Integer stopAtStep) {
        public static final Options NONE = new Options(0, 2, null, null);

        public Options {
            if (every < 0) throw new IllegalArgumentException("checkpoint every " + every);
            if (keep < 1) throw new IllegalArgumentException("keep " + keep);
        }
    }

    /**
     * Everything besides tensors that a resumed run needs to continue exactly: the trainer's state
     * after step {@code step}. Doubles are stored as JSON numbers (shortest round-trip decimal, so
     * they read back bit for bit); NaN as null.
     */
    public record State(int step, int totalSteps, long seed, long samplerState, String configHash, JsonNode config,
                        long trainTokens, long tokens, double trainSeconds, double elapsedSeconds,
                        double firstLoss, double lastLoss, double bestValLoss, int bestValStep, double lastValLoss,
                        double intervalLoss, int intervalSteps, long intervalTokens, double intervalSeconds,
                        int checkpointEvery, int keep) {

        ObjectNode toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.put("format", FORMAT).put("step", step).put("total_steps", totalSteps).put("seed", seed)
                    .put("config_hash", configHash);
            n.putObject("rng").put("sampler", samplerState)
                    .put("dropout", "derived from (seed, step): nothing to save");
            n.put("train_tokens", trainTokens).put("tokens", tokens);
            num(n, "train_s", trainSeconds);
            num(n, "elapsed_s", elapsedSeconds);
            num(n, "first_loss", firstLoss);
            num(n, "last_loss", lastLoss);
            num(n, "best_val_loss", bestValLoss);
            n.put("best_val_step", bestValStep);
            num(n, "last_val_loss", lastValLoss);
            ObjectNode iv = n.putObject("log_interval");
            num(iv, "loss_sum", intervalLoss);
            iv.put("steps", intervalSteps).put("tokens", intervalTokens);
            num(iv, "seconds", intervalSeconds);
            n.put("checkpoint_every", checkpointEvery).put("keep_checkpoints", keep);
            n.set("config", config);
            return n;
        }

        static State fromJson(JsonNode n) {
            JsonNode iv = n.path("log_interval");
            return new State(n.path("step").asInt(-1), n.path("total_steps").asInt(-1), n.path("seed").asLong(),
                    n.path("rng").path("sampler").asLong(), n.path("config_hash").asText(""), n.path("config"),
                    n.path("train_tokens").asLong(-1), n.path("tokens").asLong(), num(n, "train_s"), num(n, "elapsed_s"),
                    num(n, "first_loss"), num(n, "last_loss"), num(n, "best_val_loss"), n.path("best_val_step").asInt(-1),
                    num(n, "last_val_loss"), num(iv, "loss_sum"), iv.path("steps").asInt(), iv.path("tokens").asLong(),
                    num(iv, "seconds"), n.path("checkpoint_every").asInt(0), n.path("keep_checkpoints").asInt(2));
        }

        private static void num(ObjectNode n, String k, double v) {
            if (Double.isFinite(v)) n.put(k, v);
            else n.putNull(k);
        }

        private static double num(JsonNode n, String k) {
            JsonNode v = n.get(k);
            return v == null || !v.isNumber() ? Double.NaN : v.doubleValue();
        }
    }

    /** A complete checkpoint: its directory and trainer state. */
    public record Found(Path dir, State state) {
        public int step() {
            return state.step();
        }
    }

    /**
     * What a resumed run continues with.
     *
     * @param found the checkpoint it starts from
     * @param steps total steps of the resumed run (its schedule's length)
     * @param seed  the run seed (the checkpoint's)
     */
    public record Resume(Found found, int steps, long seed) {
        public State state() {
            return found.state();
        }

        /** Refuses a resume on training data of another size than the checkpointed run's. */
        public void checkTrainData(long tokens, String describe) {
            long was = found.state().trainTokens();
            if (was >= 0 && was != tokens) {
                throw new CheckpointException(found.dir().resolve(TRAINER).toString(), "the run was trained on " + was
                        + " tokens but the training data now is " + describe + " with " + tokens,
                        "resume with the run's training data (--train), or start a new run without --resume");
            }
        }
    }

    /** The config as the JSON tree stored in {@code trainer.json}. */
    public static JsonNode configTree(Config c) {
        try {
            return JSON.readTree(ConfigWriter.toJson(c));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String dirName(int step) {
        return String.format("step-%06d", step);
    }

    // ---------------------------------------------------------------- write

    /**
     * Writes the checkpoint of {@code st.step()} under {@code runDir/checkpoints}: parameters and
     * state of {@code e}, the trainer state, then the manifest; then deletes all but the newest
     * {@code keep} committed checkpoints (and leftovers of interrupted writes).
     *
     * @return the checkpoint directory
     */
    public static Path save(Path runDir, State st, Executable e, int keep) {
        Path root = runDir.resolve(DIR);
        Path d = root.resolve(dirName(st.step()));
        try {
            Files.createDirectories(root);
            if (Files.exists(d)) deleteCheckpoint(d); // a leftover of an interrupted write (or of an older life of this run)
            Files.createDirectories(d);
            Program p = e.program();
            Map<String, String> meta = Map.of("format", "mixlab", "program", p.name(), "step", Integer.toString(st.step()));
            atomically(d.resolve(MODEL), tmp -> Safetensors.write(tmp, tensors(e, p.params()), meta));
            atomically(d.resolve(OPTIMIZER), tmp -> Safetensors.write(tmp, tensors(e, p.state()), meta));
            byte[] trainer = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(st.toJson());
            atomically(d.resolve(TRAINER), tmp -> writeBytes(tmp, trainer));
            ObjectNode m = JSON.createObjectNode();
            m.put("format", FORMAT).put("step", st.step());
            ObjectNode files = m.putObject("files");
            for (String f : FILES) {
                Path fp = d.resolve(f);
                files.putObject(f).put("bytes", Files.size(fp)).put("sha256", sha256(fp));
            }
            byte[] manifest = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
            atomically(d.resolve(MANIFEST), tmp -> writeBytes(tmp, manifest));
            syncDir(d);
            prune(root, keep);
            syncDir(root);
            return d;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write checkpoint " + d + ": " + ex.getMessage(), ex);
        }
    }

    private static Map<String, Tensor> tensors(Executable e, List<Value> vs) {
        Map<String, Tensor> ts = new LinkedHashMap<>();
        for (Value v : vs) {
            long[] shape = Arrays.stream(v.shape().dims()).asLongStream().toArray();
            ts.put(v.name(), Tensor.ofFloats(shape, e.getFloats(v.name())));
        }
        return ts;
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    /** Writes {@code file} as {@code file.tmp} (flushed to disk), then renames it into place. */
    private static void atomically(Path file, Writer w) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + TMP);
        w.write(tmp);
        if (PAUSE_MS > 0 && !file.getFileName().toString().endsWith(".jsonl")) {
            try {
                Thread.sleep(PAUSE_MS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException ex) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writeBytes(Path file, byte[] b) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
    }

    /** Makes renames in {@code dir} durable where the platform allows (Linux, macOS); elsewhere a no-op. */
    private static void syncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // directories cannot be opened on this platform; the renames are still atomic
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Keeps the newest {@code keep} directories that have a manifest; deletes every other step directory. */
    private static void prune(Path root, int keep) throws IOException {
        List<Path> dirs = stepDirs(root); // newest first
        int kept = 0;
        for (Path d : dirs) {
            if (kept < keep && Files.exists(d.resolve(MANIFEST))) kept++;
            else deleteCheckpoint(d);
        }
    }

    /** Deletes a checkpoint directory, its manifest first so that a crash midway never leaves a loadable remainder. */
    static void deleteCheckpoint(Path d) throws IOException {
        Files.deleteIfExists(d.resolve(MANIFEST));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path f : ds) Files.deleteIfExists(f);
        }
        Files.deleteIfExists(d);
    }

    /** Step directories under {@code root}, newest (highest step) first. */
    static List<Path> stepDirs(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p) && STEP_DIR.matcher(p.getFileName().toString()).matches()) out.add(p);
            }
        }
        out.sort(Comparator.comparingLong(Checkpoints::stepOf).reversed());
        return out;
    }

    private static long stepOf(Path d) {
        Matcher m = STEP_DIR.matcher(d.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    // ---------------------------------------------------------------- read

    /**
     * The newest complete checkpoint of {@code runDir}, or null if it has none. A checkpoint is
     * complete when its manifest parses and every file it lists has the listed size and SHA-256;
     * others are skipped, with the reason added to {@code skipped} (if not null).
     */
    public static Found latest(Path runDir, List<String> skipped) {
        try {
            for (Path d : stepDirs(runDir.resolve(DIR))) {
                String why = verify(d);
                if (why == null) {
                    State st = State.fromJson(JSON.readTree(d.resolve(TRAINER).toFile()));
                    if (st.step() == stepOf(d)) return new Found(d, st);
                    why = "trainer.json says step " + st.step();
                }
                if (skipped != null) skipped.add(d.getFileName() + ": " + why);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoints of " + runDir + ": " + e.getMessage(), e);
        }
    }

    /** Null if {@code d} is a complete checkpoint, else why not. */
    static String verify(Path d) {
        Path mf = d.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) return "no manifest.json (an interrupted write)";
        try {
            JsonNode m = JSON.readTree(mf.toFile());
            if (m == null || m.path("format").asInt() != FORMAT) return "manifest.json has an unknown format";
            JsonNode files = m.path("files");
            for (String f : FILES) {
                JsonNode e = files.get(f);
                if (e == null) return "manifest.json does not list " + f;
                Path fp = d.resolve(f);
                if (!Files.isRegularFile(fp)) return f + " is missing";
                long size = Files.size(fp);
                if (size != e.path("bytes").asLong(-1)) return f + " has " + size + " bytes, the manifest says " + e.path("bytes");
                if (!sha256(fp).equals(e.path("sha256").asText())) return f + " does not match its SHA-256 in the manifest";
            }
            return null;
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /**
     * Checks that {@code runDir} can be resumed with {@code config}: it has a complete checkpoint,
     * the config equals the checkpointed one (except {@link #RESUMABLE_FIELDS}), the total steps are
     * not fewer than those done and the seed is the run's.
     *
     * @param stepsOverride {@code --steps}, or null: the checkpoint's total (or the config's, where the config changed it)
     * @param seedOverride  {@code --seed}, or null
     * @param stopAtStep    {@code --stop-at-step}, or null
     * @throws CheckpointException naming the file and the fix
     */
    public static Resume resume(Path runDir, Config config, Integer stepsOverride, Long seedOverride, Integer stopAtStep) {
        Path root = runDir.resolve(DIR);
        if (!Files.isDirectory(runDir)) {
            throw new CheckpointException(runDir.toString(), "no such run directory", "pass the directory of a run trained with --checkpoint-every N");
        }
        List<String> skipped = new ArrayList<>();
        Found f = latest(runDir, skipped);
        if (f == null) {
            throw new CheckpointException(root.toString(), "no complete checkpoint"
                    + (skipped.isEmpty() ? "" : " (skipped " + String.join("; ", skipped) + ")"),
                    "train with --checkpoint-every N to write checkpoints, or start a new run without --resume");
        }
        State st = f.state();
        String where = f.dir().resolve(TRAINER).toString();
        JsonNode now = configTree(config);
        int total = st.totalSteps();
        if (!ConfigWriter.hash(config).equals(st.configHash())) {
            List<String> diffs = new ArrayList<>();
            diff("", st.config(), now, diffs);
            List<String> blocking = diffs.stream().filter(s -> !RESUMABLE_FIELDS.contains(s.substring(0, s.indexOf(' ')))).toList();
            if (!blocking.isEmpty() || diffs.isEmpty()) {
                throw new CheckpointException(where, "the config differs from the one this run was trained with (config hash "
                        + ConfigWriter.hash(config) + " vs " + st.configHash() + (blocking.isEmpty() ? "" : ": " + String.join(", ", blocking)) + ")",
                        "resume with the run's config " + runDir.resolve("config.json") + ", or start a new run without --resume");
            }
            int before = st.config().path("training").path("steps").asInt(), after = now.path("training").path("steps").asInt();
            if (before != after) total = after;
        }
        if (stepsOverride != null) total = stepsOverride;
        if (total < st.step()) {
            throw new CheckpointException(where, "the checkpoint has " + st.step() + " steps done but the resumed run would have "
                    + total + " in total", "pass --steps " + st.step() + " or more");
        }
        if (seedOverride != null && seedOverride != st.seed()) {
            throw new CheckpointException(where, "the run's seed is " + st.seed() + ", not " + seedOverride,
                    "drop --seed (a resume keeps the run's seed), or start a new run without --resume");
        }
        if (stopAtStep != null && stopAtStep <= st.step()) {
            throw new CheckpointException(where, "--stop-at-step " + stopAtStep + " is not after the checkpoint's step " + st.step(),
                    "pass a later --stop-at-step, or none");
        }
        return new Resume(f, total, st.seed());
    }

    /** Leaf differences between two JSON trees as {@code "path old → new"}. */
    static void diff(String path, JsonNode a, JsonNode b, List<String> out) {
        if (a != null && b != null && a.isObject() && b.isObject()) {
            Set<String> keys = new TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) diff(path.isEmpty() ? k : path + "." + k, a.get(k), b.get(k), out);
        } else if (a != null && b != null && a.isArray() && b.isArray() && a.size() == b.size()) {
            Iterator<JsonNode> ia = a.elements(), ib = b.elements();
            for (int i = 0; ia.hasNext(); i++) diff(path + "[" + i + "]", ia.next(), ib.next(), out);
        } else if (a == null || !a.equals(b)) {
            out.add(path + " " + (a == null ? "(absent)" : a) + " → " + (b == null ? "(absent)" : b));
        }
    }

    /** Sets every parameter and state leaf of {@code e} from checkpoint {@code f}. */
    public static void restore(Found f, Executable e) {
        Program p = e.program();
        load(f.dir().resolve(MODEL), p.params(), e);
        load(f.dir().resolve(OPTIMIZER), p.state(), e);
    }

    private static void load(Path file, List<Value> vs, Executable e) {
        try (SafetensorsFile sf = Safetensors.read(file)) {
            for (Value v : vs) {
                if (!sf.has(v.name())) {
                    throw new CheckpointException(file.toString(), "no tensor '" + v.name() + "' (the model has a different shape)",
                            "resume with the run's config, or start a new run without --resume");
                }
                Tensor t = sf.tensor(v.name());
                long[] want = Arrays.stream(v.shape().dims()).asLongStream().toArray();
                if (!t.dtype().equals("F32") || !Arrays.equals(t.shape(), want)) {
                    throw new CheckpointException(file.toString(), "tensor '" + v.name() + "' is " + t.dtype() + Arrays.toString(t.shape())
                            + " but the model needs F32" + Arrays.toString(want), "resume with the run's config, or start a new run without --resume");
                }
                e.setFloats(v.name(), t.floats());
            }
        } catch (SafetensorsException ex) {
            throw new CheckpointException(file.toString(), ex.getMessage(), "delete this checkpoint directory to resume from the one before");
        }
    }

    /**
     * Makes {@code metrics.jsonl} the log of an uninterrupted run up to {@code step}: keeps the
     * leading lines that parse and whose step is at most {@code step}, drops the rest (lines logged
     * after the checkpoint, a line cut by a crash), via a temporary file and a rename.
     */
    public static void truncateMetrics(Path metrics, int step) {
        if (!Files.exists(metrics)) return;
        try {
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException bad) {
                    break;
                }
                if (n == null || !n.path("step").isInt() || n.path("step").asInt() > step) break;
                keep.add(line);
            }
            StringBuilder sb = new StringBuilder();
            for (String l : keep) sb.append(l).append('\n');
            atomically(metrics, tmp -> writeBytes(tmp, sb.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + metrics + ": " + e.getMessage(), e);
        }
    }
}
