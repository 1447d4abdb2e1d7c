package dev.mixlab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.config.Config;
import dev.mixlab.experiment.Budget;
import dev.mixlab.experiment.ExperimentPlan;
import dev.mixlab.experiment.Race;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mixlab race DIR|CONFIG|experiment.json ...}: trains every config per seed under one budget and compares. */
@Command(name = "race", mixinStandardHelpOptions = true,
        description = "Train several configs × seeds under the same budget and data, then rank them with statistics.")
final class RaceCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR|CONFIG|PLAN",
            description = "config files, folders of them, or an experiment.json (a folder holding one runs that plan)")
    List<Path> inputs;

    @Option(names = "--train", paramLabel = "GLOB|FILE", description = "training data for every config (default: the configs' data.train, which must agree)")
    String train;

    @Option(names = "--val", paramLabel = "GLOB|FILE", description = "validation data for every config")
    String val;

    @Option(names = "--steps", description = "budget: optimizer steps per run")
    Integer steps;

    @Option(names = "--time-budget", paramLabel = "DURATION", description = "budget: training time per run, e.g. 90s, 5m")
    String timeBudget;

    @Option(names = "--flops-budget", paramLabel = "FLOPS", description = "budget: training FLOPs per run, e.g. 1e15 (steps = budget / (FLOPs per token × batch tokens))")
    Double flopsBudget;

    @Option(names = "--seeds", paramLabel = "N|S,S,...", description = "number of seeds (0..N-1, default 3) or a list; added to each config's seed")
    String seeds;

    @Option(names = "--baseline", paramLabel = "NAME", description = "config the others are compared with (default: the first)")
    String baseline;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu (default) or reference")
    String device;

    @Option(names = "--out", paramLabel = "RACE_DIR", description = "race directory (default runs/race-<time>); rerun with the same --out to resume")
    Path out;

    @Option(names = "--verbose", description = "print every run's training log")
    boolean verbose;

    public Integer call() {
        Budget budget = budget(); // flag mistakes first, before any file is read
        List<Long> seedList = seeds == null ? null : parseSeeds(seeds);
        Devices.backend(device); // an unknown device fails here, before anything trains
        ExperimentPlan plan = null;
        List<Path> configFiles = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                Path p = in.resolve("experiment.json");
                if (Files.isRegularFile(p)) {
                    plan = setPlan(plan, p);
                } else {
                    configFiles.addAll(configsIn(in));
                }
            } else if (!Files.exists(in)) {
                throw new UserException(in + ": no such file or folder; give config files, a folder of them or an experiment.json");
            } else if (ExperimentPlan.isPlan(in)) {
                plan = setPlan(plan, in);
            } else {
                configFiles.add(in);
            }
        }
        if (plan != null) {
            if (!configFiles.isEmpty()) throw new UserException("the plan " + plan.file() + " lists its configs; give only the plan (or only configs)");
            configFiles.addAll(plan.configs());
        }
        if (configFiles.isEmpty()) throw new UserException("no configs found in " + inputs + "; give config files (*.json) or a folder of them");

        List<Race.Entry> entries = new ArrayList<>();
        for (Path f : configFiles) {
            Config c = ConfigFiles.load(f);
            String tr = train != null ? train : ConfigFiles.resolveFromConfig(f, c.data().train());
            String va = val != null ? val : ConfigFiles.resolveFromConfig(f, c.data().val());
            if (tr == null) throw new UserException(f + " has no data.train; give --train FILE|GLOB for the race");
            entries.add(new Race.Entry(c.name(), f, c, tr, va));
        }
        if (plan != null) plan.checkNames(entries.stream().map(Race.Entry::name).toList());

        if (plan != null && plan.budget() != null) {
            if (budget != null && !budget.equals(plan.budget())) {
                throw new UserException("the plan fixes the budget (" + plan.budget().describe() + "); drop --steps/--time-budget/--flops-budget or edit the plan");
            }
            budget = plan.budget();
        }
        if (plan != null && plan.seeds() != null) {
            if (seedList != null && !seedList.equals(plan.seeds())) throw new UserException("the plan fixes the seeds " + plan.seeds() + "; drop --seeds or edit the plan");
            seedList = plan.seeds();
        }
        if (seedList == null) seedList = List.of(0L, 1L, 2L);
        String base = baseline;
        if (plan != null && plan.baseline() != null) {
            if (base != null && !base.equals(plan.baseline())) throw new UserException("the plan's baseline is " + plan.baseline() + "; drop --baseline or edit the plan");
            base = plan.baseline();
        }
        Path dir = out != null ? out : Path.of("runs", "race-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Race.Spec spec = new Race.Spec(entries, seedList, budget, base, device, dir, plan);
        Race.run(spec, () -> Devices.backend(device), new PrintStream(System.out, true), verbose);
        return 0;
    }

    private static ExperimentPlan setPlan(ExperimentPlan had, Path file) {
        if (had != null) throw new UserException("two experiment plans (" + had.file() + ", " + file + "); race one plan at a time");
        return ExperimentPlan.load(file);
    }

    /** @return the *.json files of a folder that are configs (objects with "blocks"), sorted by name */
    static List<Path> configsIn(Path dir) {
        ObjectMapper m = new ObjectMapper();
        m.enable(com.fasterxml.jackson.core.JsonParser.Feature.ALLOW_COMMENTS);
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p)).sorted().filter(p -> {
                try {
                    JsonNode n = m.readTree(Files.readString(p));
                    return n != null && n.isObject() && n.has("blocks");
                } catch (IOException | RuntimeException e) {
                    return false;
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Budget budget() {
        int given = (steps != null ? 1 : 0) + (timeBudget != null ? 1 : 0) + (flopsBudget != null ? 1 : 0);
        if (given > 1) throw new UserException("give one budget: --steps, --time-budget or --flops-budget");
        if (steps != null) {
            if (steps < 1) throw new UserException("--steps must be at least 1, got " + steps);
            return Budget.steps(steps);
        }
        if (timeBudget != null) return Budget.time(DurationArg.seconds(timeBudget, "--time-budget"));
        if (flopsBudget != null) {
            if (!(flopsBudget > 0) || flopsBudget.isInfinite()) throw new UserException("--flops-budget must be a positive number, e.g. 1e15");
            return Budget.flops(flopsBudget);
        }
        return null;
    }

    static List<Long> parseSeeds(String s) {
        try {
            if (!s.contains(",")) {
                int n = Integer.parseInt(s.trim());
                if (n < 1 || n > 1000) throw new UserException("--seeds " + s + ": give a count from 1 to 1000 or a list like 0,1,2");
                List<Long> out = new ArrayList<>();
                for (long i = 0; i < n; i++) out.add(i);
                return out;
            }
            List<Long> out = new ArrayList<>();
            for (String p : s.split(",")) {
                long v = Long.parseLong(p.trim());
                if (v < 0 || out.contains(v)) throw new UserException("--seeds " + s + ": seeds must be distinct whole numbers ≥ 0");
                out.add(v);
            }
            return out;
        } catch (NumberFormatException e) {
            throw new UserException("--seeds " + s + ": give a count (3) or a list (0,1,2)");
        }
    }
}
