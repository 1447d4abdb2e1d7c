package dev.mixlab.report;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.train.ModelReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads run and race directories into {@link Group}s of seeds and {@link Race}s. Missing optional
 * files and fields are tolerated; a path that is neither a run, a race nor a folder of runs is a
 * {@link ReportException}.
 */
public final class Report {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS, JsonReadFeature.ALLOW_TRAILING_COMMA,
                    JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();
    private static final Pattern SEED_DIR = Pattern.compile("(.+)-s(\\d+)");

    private final List<Path> inputs;
    private final List<Group> groups;
    private final List<Race> races;
    private final List<String> warnings;

    private Report(List<Path> inputs, List<Group> groups, List<Race> races, List<String> warnings) {
        this.inputs = inputs;
        this.groups = groups;
        this.races = races;
        this.warnings = warnings;
    }

    public List<Path> inputs() { return inputs; }
    public List<Group> groups() { return groups; }
    public List<Race> races() { return races; }
    public List<String> warnings() { return warnings; }

    Report withWarnings(List<String> w) {
        return new Report(inputs, groups, races, List.copyOf(w));
    }

    /** Reads every input: a run dir, a race dir, or a folder whose subfolders are runs or races. */
    public static Report load(List<Path> inputs) {
        if (inputs.isEmpty()) throw new ReportException("no input: give one or more run or race directories");
        List<Race> races = new ArrayList<>();
        List<Run> loose = new ArrayList<>();
        Map<Race, List<Run>> raceRuns = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        for (Path in : inputs) {
            if (!Files.isDirectory(in)) {
                throw new ReportException(in + ": no such directory; give a run dir (with metrics.jsonl) or a race dir (with race.json)");
            }
            int before = loose.size() + raceRuns.size();
            collect(in, 0, races, raceRuns, loose, warnings);
            if (loose.size() + raceRuns.size() == before) {
                throw new ReportException(in + ": neither a run dir (metrics.jsonl, summary.json) nor a race dir (race.json) "
                        + "nor a folder of them; give the folder that `mixlab train --out` or `mixlab race` wrote");
            }
        }
        List<Group> groups = new ArrayList<>();
        boolean manyRaces = raceRuns.size() > 1;
        for (var e : raceRuns.entrySet()) {
            Race race = e.getKey();
            Map<String, List<Run>> byName = new LinkedHashMap<>();
            for (String name : raceConfigNames(race.spec())) byName.put(name, new ArrayList<>());
            for (Run r : e.getValue()) byName.computeIfAbsent(r.group(), k -> new ArrayList<>()).add(r);
            for (var g : byName.entrySet()) {
                String label = manyRaces ? race.dir().getFileName() + "/" + g.getKey() : g.getKey();
                JsonNode cfg = g.getValue().stream().map(Run::config).filter(c -> !c.isMissingNode()).findFirst()
                        .orElse(raceConfig(race.spec(), g.getKey()));
                double fpt = num(resultRow(race, g.getKey()).path("flops_per_token"));
                if (!Double.isFinite(fpt)) fpt = flopsFromConfig(cfg);
                groups.add(new Group(label, groups.size(), g.getValue(), cfg, fpt, race));
            }
        }
        // Runs given directly: the same config (ignoring its seed) is one group.
        Map<String, List<Run>> byKey = new LinkedHashMap<>();
        for (Run r : loose) byKey.computeIfAbsent(seedless(r), k -> new ArrayList<>()).add(r);
        Map<String, Integer> labelUse = new LinkedHashMap<>();
        for (List<Run> rs : byKey.values()) labelUse.merge(rs.getFirst().group(), 1, Integer::sum);
        for (List<Run> rs : byKey.values()) {
            Run first = rs.getFirst();
            String label = first.group();
            if (labelUse.get(label) > 1) {
                String hash = first.summary().path("config_hash").asText("");
                label += " (" + (hash.isEmpty() ? first.dir().getFileName() : hash.substring(0, Math.min(6, hash.length()))) + ")";
            }
            groups.add(new Group(label, groups.size(), rs, first.config(), flopsFromConfig(first.config()), null));
        }
        return new Report(List.copyOf(inputs), groups, races, warnings);
    }

    private static void collect(Path dir, int depth, List<Race> races, Map<Race, List<Run>> raceRuns, List<Run> loose,
                                List<String> warnings) {
        if (Files.exists(dir.resolve("race.json")) || Files.exists(dir.resolve("results.json"))) {
            Race race = new Race(dir, readJson(dir.resolve("race.json"), warnings), readJson(dir.resolve("results.json"), warnings));
            races.add(race);
            List<Run> runs = new ArrayList<>();
            for (Path sub : subdirs(dir.resolve("runs"))) {
                if (!isRunDir(sub)) continue;
                Matcher m = SEED_DIR.matcher(sub.getFileName().toString());
                runs.add(m.matches() ? readRun(sub, m.group(1), Long.parseLong(m.group(2)), warnings) : readRun(sub, null, null, warnings));
            }
            raceRuns.put(race, runs);
        } else if (isRunDir(dir)) {
            loose.add(readRun(dir, null, null, warnings));
        } else if (depth < 2) {
            for (Path sub : subdirs(dir)) collect(sub, depth + 1, races, raceRuns, loose, warnings);
        }
    }

    static boolean isRunDir(Path d) {
        return Files.isRegularFile(d.resolve("metrics.jsonl")) || Files.isRegularFile(d.resolve("summary.json"));
    }

    private static List<Path> subdirs(Path d) {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(Files::isDirectory).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Run readRun(Path dir, String group, Long seed, List<String> warnings) {
        JsonNode config = readJson(dir.resolve("config.json"), warnings);
        JsonNode summary = readJson(dir.resolve("summary.json"), warnings);
        List<Point> points = new ArrayList<>();
        Path m = dir.resolve("metrics.jsonl");
        if (Files.isRegularFile(m)) {
            try {
                int line = 0;
                for (String s : Files.readAllLines(m, StandardCharsets.UTF_8)) {
                    line++;
                    if (s.isBlank()) continue;
                    try {
                        JsonNode n = JSON.readTree(s);
                        points.add(new Point(n.path("step").asLong(line), num(n.path("tokens")), num(n.path("elapsed_s")),
                                num(n.path("loss")), num(n.path("val_loss"))));
                    } catch (IOException e) {
                        warnings.add(m + ":" + line + ": skipped a line that is not JSON");
                    }
                }
            } catch (IOException e) {
                warnings.add(m + ": cannot read (" + e.getMessage() + ")");
            }
        }
        if (group == null) {
            group = config.path("name").asText(summary.path("name").asText(dir.getFileName().toString()));
        }
        return new Run(dir, group, seed, config, summary, points);
    }

    static JsonNode readJson(Path file, List<String> warnings) {
        if (!Files.isRegularFile(file)) return MissingNode.getInstance();
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            warnings.add(file + ": not valid JSON, ignored (" + e.getMessage().lines().findFirst().orElse("") + ")");
            return MissingNode.getInstance();
        }
    }

    /** The names of race.json's configs: an array of objects with "name", or an object keyed by name. */
    static List<String> raceConfigNames(JsonNode spec) {
        List<String> names = new ArrayList<>();
        JsonNode cs = spec.path("configs");
        if (cs.isArray()) {
            for (JsonNode c : cs) {
                String n = c.path("name").asText(c.path("config").path("name").asText(""));
                if (!n.isEmpty()) names.add(n);
            }
        } else if (cs.isObject()) {
            cs.fieldNames().forEachRemaining(names::add);
        }
        return names;
    }

    /** A config's resolved JSON from race.json ("config", "resolved" or "json": an object or a JSON string). */
    static JsonNode raceConfig(JsonNode spec, String name) {
        JsonNode cs = spec.path("configs");
        JsonNode entry = MissingNode.getInstance();
        if (cs.isObject()) entry = cs.path(name);
        else if (cs.isArray()) {
            for (JsonNode c : cs) if (name.equals(c.path("name").asText(c.path("config").path("name").asText()))) entry = c;
        }
        for (String f : List.of("config", "resolved", "json")) {
            JsonNode v = entry.path(f);
            if (v.isObject()) return v;
            if (v.isTextual()) {
                try {
                    return JSON.readTree(v.asText());
                } catch (IOException ignored) {
                    // not JSON text: fall through
                }
            }
        }
        return MissingNode.getInstance();
    }

    /** results.json's row for a config, or a missing node. */
    static JsonNode resultRow(Race race, String name) {
        for (JsonNode r : race.results().path("rows")) if (name.equals(r.path("name").asText())) return r;
        return MissingNode.getInstance();
    }

    /** Training FLOPs per token counted from the config's IR, NaN when the config cannot be read. */
    static double flopsFromConfig(JsonNode config) {
        if (!config.isObject()) return Double.NaN;
        try {
            return ModelReport.of(ConfigLoader.parse(JSON.writeValueAsString(config), "config.json")).trainFlopsPerToken();
        } catch (Exception | StackOverflowError e) {
            return Double.NaN;
        }
    }

    /** The run's config as text without training.seed: runs that differ only by seed share it. */
    private static String seedless(Run r) {
        if (!r.config().isObject()) return "dir:" + r.dir();
        ObjectNode c = r.config().deepCopy();
        if (c.path("training").isObject()) ((ObjectNode) c.get("training")).remove("seed");
        return c.toString();
    }

    /** A JSON number (or numeric string) as a double; NaN when absent or not a number. */
    public static double num(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) return Double.NaN;
        if (n.isNumber()) return n.asDouble();
        if (n.isTextual()) {
            try {
                return Double.parseDouble(n.asText());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }
}
