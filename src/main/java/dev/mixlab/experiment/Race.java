package dev.mixlab.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.backend.Backend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.train.ModelReport;
import dev.mixlab.train.RunSummary;
import dev.mixlab.train.TrainOptions;
import dev.mixlab.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A race: every config trained once per seed, one run at a time, under the same budget and data;
 * then statistics across seeds ({@link RaceResults}). Layout of the race directory:
 * {@code race.json} (the race as asked), {@code runs/<name>-s<seed>/} (one ordinary run directory
 * each) and {@code results.json}. Rerunning the same race into the same directory skips the runs
 * whose {@code summary.json} says {@code ok} for the same config.
 */
public final class Race {
    private Race() {}

    /** Reads NaN too: a diverged run's summary.json may hold one. */
    static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /**
     * One contestant.
     *
     * @param train the training data it would use (resolved), for the comparability check
     * @param val   its validation data (resolved), or null
     */
    public record Entry(String name, Path file, Config config, String train, String val) {}

    /**
     * The race as asked.
     *
     * @param seeds    race seeds; run s of a config trains with seed {@code training.seed + s}
     * @param budget   the budget, or null to use the configs' own (equal) {@code training.steps}
     * @param baseline baseline config name, or null for the first config
     * @param device   device name, recorded in race.json
     * @param plan     the experiment plan, or null
     */
    public record Spec(List<Entry> entries, List<Long> seeds, Budget budget, String baseline, String device, Path out,
                       ExperimentPlan plan) {
        /** @return the baseline's name: the one given, else the first config */
        public String baselineName() {
            return baseline != null ? baseline : entries.getFirst().name();
        }
    }

    /**
     * Refuses, before anything trains, a race whose configs cannot be compared.
     *
     * @return the budget every run gets (the configs' own steps when none was given)
     * @throws RaceException with the reason and the fix
     */
    public static Budget check(Spec s) {
        if (s.entries().isEmpty()) throw new RaceException("no configs to race; give config files, a folder of them or an experiment.json");
        if (s.seeds().isEmpty()) throw new RaceException("no seeds; give --seeds N or --seeds 0,1,2");
        Map<String, Entry> byName = new LinkedHashMap<>();
        for (Entry e : s.entries()) {
            Entry twin = byName.put(e.name(), e);
            if (twin != null) {
                throw new RaceException("two configs are named \"" + e.name() + "\" (" + twin.file() + ", " + e.file()
                        + "); give each a distinct \"name\" so their runs and rows can be told apart");
            }
        }
        Entry first = s.entries().getFirst();
        for (Entry e : s.entries()) {
            if (e.config().vocabSize() != first.config().vocabSize()) {
                throw incomparable(first, e, "vocab_size", first.config().vocabSize(), e.config().vocabSize(),
                        "losses over different vocabularies are not comparable; use one vocab_size");
            }
            if (e.config().seqLen() != first.config().seqLen()) {
                throw incomparable(first, e, "seq_len", first.config().seqLen(), e.config().seqLen(),
                        "the loss depends on the context length; use one seq_len");
            }
            if (!Objects.equals(e.train(), first.train())) {
                throw incomparable(first, e, "training data", first.train(), e.train(),
                        "give --train (and --val) so every config trains on the same data");
            }
            if (!Objects.equals(e.val(), first.val())) {
                throw incomparable(first, e, "validation data", first.val(), e.val(),
                        "give --val so every config is validated on the same data");
            }
        }
        // prepared data: every config must take the tokenizer's ids (refused before anything trains)
        if (first.train() != null && dev.mixlab.data.PreparedData.isPrepared(first.train())) {
            dev.mixlab.data.PreparedData pd = dev.mixlab.data.PreparedData.read(java.nio.file.Path.of(first.train()));
            for (Entry e : s.entries()) pd.checkVocab(e.config().vocabSize());
        }
        if (s.baseline() != null && !byName.containsKey(s.baseline())) {
            throw new RaceException("--baseline " + s.baseline() + ": no config of that name; use one of: "
                    + String.join(", ", byName.keySet()));
        }
        if (s.budget() != null) return s.budget();
        for (Entry e : s.entries()) {
            if (e.config().training().steps() != first.config().training().steps()) {
                throw incomparable(first, e, "training.steps", first.config().training().steps(), e.config().training().steps(),
                        "give one budget for all: --steps N, --time-budget 5m or --flops-budget 1e15");
            }
        }
        return Budget.steps(first.config().training().steps());
    }

    private static RaceException incomparable(Entry a, Entry b, String what, Object va, Object vb, String fix) {
        return new RaceException("cannot race " + b.name() + " against " + a.name() + ": different " + what + " ("
                + a.name() + " " + va + ", " + b.name() + " " + vb + "); " + fix);
    }

    /** @return the optimizer steps this config gets under the budget */
    public static int stepsFor(Config c, Budget b) {
        return switch (b.kind()) {
            case STEPS -> (int) b.value();
            case TIME -> c.training().steps();
            case FLOPS -> {
                ModelReport r = ModelReport.of(c);
                double perStep = (double) r.trainFlopsPerToken() * r.batch() * r.seqLen();
                yield (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.floor(b.value() / perStep)));
            }
        };
    }

    /** @return the run directory of one config and race seed */
    public static Path runDir(Path out, String name, long seed) {
        return out.resolve("runs").resolve(name + "-s" + seed);
    }

    /**
     * Runs the race (skipping runs already done), writes race.json and results.json, prints the
     * ranked table and, with a plan, the hypotheses beside their outcome.
     *
     * @param verbose print each run's training log, not only one line per run
     * @return results.json's content
     */
    public static ObjectNode run(Spec s, Supplier<Backend> backends, PrintStream out, boolean verbose) {
        Budget budget = check(s);
        Map<String, ModelReport> reports = new LinkedHashMap<>();
        Map<String, Integer> steps = new LinkedHashMap<>();
        for (Entry e : s.entries()) {
            reports.put(e.name(), ModelReport.of(e.config()));
            steps.put(e.name(), stepsFor(e.config(), budget));
        }
        Path raceFile = s.out().resolve("race.json");
        ObjectNode race = raceJson(s, budget, steps);
        refuseOtherRace(raceFile, race);
        write(raceFile, race);

        int total = s.entries().size() * s.seeds().size(), i = 0;
        out.printf(Locale.ROOT, "race: %d configs × %d seeds, %s each, baseline %s, dir %s%n", s.entries().size(),
                s.seeds().size(), budget.describe(), s.baselineName(), s.out());
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Map<String, List<JsonNode>> summaries = new LinkedHashMap<>();
        for (Entry e : s.entries()) {
            List<JsonNode> mine = new ArrayList<>();
            String hash = ConfigWriter.hash(e.config());
            for (long seed : s.seeds()) {
                i++;
                Path dir = runDir(s.out(), e.name(), seed);
                JsonNode done = readSummary(dir);
                if (done != null && "ok".equals(done.path("status").asText()) && hash.equals(done.path("config_hash").asText())) {
                    out.printf(Locale.ROOT, "[%d/%d] %s-s%d: done before (val %.4f), skipped%n", i, total, e.name(), seed,
                            done.path("last_val_loss").asDouble(Double.NaN));
                    mine.add(done);
                    continue;
                }
                out.printf(Locale.ROOT, "[%d/%d] %s-s%d: training %d steps%s ...%n", i, total, e.name(), seed, steps.get(e.name()),
                        budget.kind() == Budget.Kind.TIME ? " or " + budget.describe() : "");
                TrainOptions o = new TrainOptions(e.train(), e.val(), steps.get(e.name()),
                        budget.kind() == Budget.Kind.TIME ? budget.value() : null, dir, e.config().training().seed() + seed);
                RunSummary r = new Trainer(e.config(), o, backends.get(), verbose ? out : quiet).run();
                out.printf(Locale.ROOT, "[%d/%d] %s-s%d: %s, val %.4f, %d steps in %.1f s%n", i, total, e.name(), seed,
                        r.status(), r.lastValLoss(), r.steps(), r.wallSeconds());
                JsonNode written = readSummary(dir);
                mine.add(written != null ? written : JSON.createObjectNode().put("status", "crashed"));
            }
            summaries.put(e.name(), mine);
        }
        ObjectNode results = RaceResults.compute(s, budget, reports, steps, summaries);
        write(s.out().resolve("results.json"), results);
        race.put("finished", Instant.now().toString());
        write(raceFile, race);
        out.println();
        out.print(RaceResults.render(results));
        out.println("results: " + s.out().resolve("results.json"));
        return results;
    }

    static ObjectNode raceJson(Spec s, Budget budget, Map<String, Integer> steps) {
        ObjectNode r = JSON.createObjectNode();
        r.put("started", Instant.now().toString());
        r.putNull("finished");
        ArrayNode cs = r.putArray("configs");
        for (Entry e : s.entries()) {
            ObjectNode c = cs.addObject();
            c.put("name", e.name()).put("file", e.file() == null ? null : e.file().toString())
                    .put("hash", ConfigWriter.hash(e.config())).put("steps", steps.get(e.name()))
                    .put("seed", e.config().training().seed());
            try {
                c.set("config", JSON.readTree(ConfigWriter.toJson(e.config())));
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
        ArrayNode seeds = r.putArray("seeds");
        s.seeds().forEach(seeds::add);
        r.set("budget", budget.toJson());
        r.put("baseline", s.baselineName());
        ObjectNode data = r.putObject("data");
        data.put("train", s.entries().getFirst().train()).put("val", s.entries().getFirst().val());
        r.put("device", s.device());
        if (s.plan() != null) {
            r.put("plan_file", s.plan().file().toString());
            r.set("plan", s.plan().json());
        } else {
            r.putNull("plan");
        }
        return r;
    }

    /** A directory that holds a race with another budget or other data is not resumed into. */
    private static void refuseOtherRace(Path raceFile, ObjectNode now) {
        if (!Files.exists(raceFile)) return;
        JsonNode before;
        try {
            before = JSON.readTree(raceFile.toFile());
        } catch (IOException e) {
            return; // unreadable: the runs' own summaries still decide what is skipped
        }
        for (String key : List.of("budget", "data")) {
            // compared as text: a budget read back as an int node equals the long node it was written from
            if (!now.get(key).toString().equals(String.valueOf(before.get(key)))) {
                throw new RaceException(raceFile.getParent() + " holds a race with a different " + key + " (" + before.get(key)
                        + ", now " + now.get(key) + "); give another --out, or delete it to start over");
            }
        }
    }

    static JsonNode readSummary(Path dir) {
        Path f = dir.resolve("summary.json");
        if (!Files.exists(f)) return null;
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            return null;
        }
    }

    static void write(Path file, JsonNode n) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
