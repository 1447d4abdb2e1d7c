package dev.mixlab.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The run ledger: one JSON line per {@code train} run, appended to {@code runs/ledger.jsonl}
 * (relative to the working directory; the system property {@value #PROPERTY} names another file).
 * Status is {@code ok}, {@code diverged}, {@code crashed} (an exception ended the run) or
 * {@code interrupted} (the JVM shut down, e.g. Ctrl-C, while the run trained).
 */
public final class RunLedger {
    private RunLedger() {}

    /** System property that overrides the ledger file. */
    public static final String PROPERTY = "mixlab.ledger";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @return the ledger file this process appends to */
    public static Path path() {
        return Path.of(System.getProperty(PROPERTY, "runs/ledger.jsonl"));
    }

    /** Appends one line; lines are small and written in one call, so concurrent runs do not interleave. */
    static synchronized void append(Path file, ObjectNode line) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(file, JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    }

    /** @return every readable line of the ledger, oldest first; none when the file does not exist */
    public static List<JsonNode> read(Path file) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) return out;
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException e) {
                    // a line cut short by a killed process: skip it, keep the rest
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the run ledger " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The commit checked out in the working directory's repository, read from {@code .git/HEAD}
     * (following a worktree's {@code gitdir:} file, loose refs and {@code packed-refs}) without
     * running git.
     *
     * @return 40 hex digits, or "unknown"
     */
    public static String gitCommit(Path start) {
        try {
            for (Path d = start.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
                Path dotGit = d.resolve(".git");
                if (Files.isRegularFile(dotGit)) {
                    String s = Files.readString(dotGit).strip();
                    if (!s.startsWith("gitdir:")) return "unknown";
                    return commitIn(d.resolve(s.substring("gitdir:".length()).strip()).normalize());
                }
                if (Files.isDirectory(dotGit)) return commitIn(dotGit);
            }
        } catch (IOException | RuntimeException e) {
            // an odd layout is not worth failing a run over
        }
        return "unknown";
    }

    private static String commitIn(Path gitDir) throws IOException {
        String head = Files.readString(gitDir.resolve("HEAD")).strip();
        if (!head.startsWith("ref:")) return isSha(head) ? head : "unknown";
        String ref = head.substring(4).strip();
        Path common = gitDir;
        if (Files.isRegularFile(gitDir.resolve("commondir"))) {
            common = gitDir.resolve(Files.readString(gitDir.resolve("commondir")).strip()).normalize();
        }
        for (Path dir : List.of(gitDir, common)) {
            Path loose = dir.resolve(ref);
            if (Files.isRegularFile(loose)) {
                String sha = Files.readString(loose).strip();
                if (isSha(sha)) return sha;
            }
            Path packed = dir.resolve("packed-refs");
            if (Files.isRegularFile(packed)) {
                for (String line : Files.readAllLines(packed)) {
                    String[] p = line.strip().split(" ");
                    if (p.length == 2 && p[1].equals(ref) && isSha(p[0])) return p[0];
                }
            }
        }
        return "unknown";
    }

    private static boolean isSha(String s) {
        return s.matches("[0-9a-f]{40}([0-9a-f]{24})?");
    }

    /**
     * One run's line, filled in as the run goes so that a crash or an interrupt still records how
     * far it got. Written at most once.
     */
    static final class Entry {
        private final Path file = path();
        private final AtomicBoolean written = new AtomicBoolean();
        private final long startNanos = System.nanoTime();
        private final ObjectNode line = JSON.createObjectNode();
        private volatile int steps;
        private volatile long tokens;
        private volatile double lastVal = Double.NaN, bestVal = Double.NaN, trainSeconds;
        private volatile long parameters = -1, flopsPerToken = -1;

        Entry(Path runDir, Config config, long seed, String device, String backend, int steps, double timeBudget) {
            line.put("run_id", runDir.getFileName().toString())
                    .put("run_dir", runDir.toString())
                    .put("time", Instant.now().toString())
                    .put("name", config.name())
                    .put("config_hash", ConfigWriter.hash(config))
                    .put("seed", seed)
                    .put("git_commit", gitCommit(Path.of("")))
                    .put("device", device)
                    .put("backend", backend);
            ObjectNode budget = line.putObject("budget");
            budget.put("steps", steps);
            if (timeBudget > 0) budget.put("time_s", timeBudget);
            else budget.putNull("time_s");
        }

        void model(long parameters, long flopsPerToken) {
            this.parameters = parameters;
            this.flopsPerToken = flopsPerToken;
        }

        void progress(int steps, long tokens, double trainSeconds, double lastVal, double bestVal) {
            this.steps = steps;
            this.tokens = tokens;
            this.trainSeconds = trainSeconds;
            this.lastVal = lastVal;
            this.bestVal = bestVal;
        }

        /** Writes the line with this status unless it was written already; a failure to write is reported, not thrown. */
        void write(String status, java.io.PrintStream out) {
            if (!written.compareAndSet(false, true)) return;
            ObjectNode n = line.deepCopy();
            n.put("status", status)
                    .put("steps", steps)
                    .put("final_val_loss", finite(lastVal))
                    .put("best_val_loss", finite(bestVal))
                    .put("params", parameters)
                    .put("flops_per_token", flopsPerToken)
                    .put("tokens", tokens)
                    .put("flops", flopsPerToken < 0 ? -1 : (double) flopsPerToken * tokens)
                    .put("train_s", trainSeconds)
                    .put("wall_s", (System.nanoTime() - startNanos) / 1e9);
            try {
                append(file, n);
            } catch (IOException | RuntimeException e) {
                if (out != null) out.println("warning: cannot append to the run ledger " + file + ": " + e.getMessage());
            }
        }

        private static Double finite(double v) {
            return Double.isFinite(v) ? v : null;
        }
    }
}
