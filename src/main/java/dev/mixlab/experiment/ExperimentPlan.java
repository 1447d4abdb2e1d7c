package dev.mixlab.experiment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mixlab.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A pre-registered experiment ({@code experiment.json}): the question, falsifiable hypotheses,
 * the configs, seeds, budget and baseline. Validated strictly; every error is one line
 * {@code file: /json/pointer: problem; fix} (a {@link ConfigException}).
 *
 * @param file       the plan file
 * @param question   what the experiment asks
 * @param hypotheses what would falsify each claim
 * @param configs    config files, resolved against the plan's folder
 * @param seeds      race seeds (added to each config's seed), or null when the plan leaves them to the command line
 * @param budget     the budget, or null when the plan leaves it to the command line
 * @param baseline   name of the baseline config, or null
 * @param json       the plan as written
 */
public record ExperimentPlan(Path file, String question, List<Hypothesis> hypotheses, List<Path> configs,
                             List<Long> seeds, Budget budget, String baseline, JsonNode json) {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static final List<String> FIELDS = List.of("question", "hypotheses", "configs", "seeds", "budget", "baseline");
    static final List<String> BUDGETS = List.of("steps", "time_budget", "flops_budget");
    static final List<String> FALSIFIERS = List.of("config", "vs", "metric", "delta_greater_than", "delta_less_than");
    /** Metrics a hypothesis can name: each is one number per run, read from its summary.json. */
    public static final List<String> METRICS = List.of("val_loss", "best_val_loss", "tok_per_s");

    /**
     * One falsifiable claim: it is falsified when {@code metric(config) − metric(vs)} (difference of
     * the means over seeds) is greater than {@code threshold} (or less, when {@code greater} is false).
     */
    public record Hypothesis(String id, String statement, String config, String vs, String metric, double threshold,
                             boolean greater, String pointer) {
        /** @return e.g. {@code Δ val_loss(gqa − baseline) > -0.01} */
        public String rule() {
            return "Δ " + metric + "(" + config + " − " + vs + ") " + (greater ? ">" : "<") + " " + threshold;
        }
    }

    /** @return true when the file looks like a plan: named experiment.json or an object with a "question" */
    public static boolean isPlan(Path file) {
        if (file.getFileName().toString().equals("experiment.json")) return true;
        try {
            JsonNode n = MAPPER.readTree(Files.readString(file));
            return n != null && n.isObject() && n.has("question");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public static ExperimentPlan load(Path file) {
        String f = file.toString();
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(f, "", "file not found", "check the path");
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new ConfigException(f, "", "malformed JSON" + where + ": "
                    + e.getOriginalMessage().lines().findFirst().orElse("").strip(), "fix the JSON syntax");
        } catch (IOException e) {
            throw new ConfigException(f, "", "cannot read file (" + e.getMessage() + ")", "check that it is a readable UTF-8 file");
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(f, "", "expected a JSON object", "write {\"question\": ..., \"configs\": [...], ...}, see docs/experiments.md");
        }
        onlyKnown(f, "", root, FIELDS);
        String question = string(f, "", root, "question", true);
        Path dir = file.toAbsolutePath().getParent();

        JsonNode cs = required(f, "", root, "configs");
        if (!cs.isArray() || cs.isEmpty()) {
            throw new ConfigException(f, "/configs", "expected a non-empty array of config file names", "write \"configs\": [\"a.json\", \"b.json\"]");
        }
        List<Path> configs = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            JsonNode c = cs.get(i);
            String at = "/configs/" + i;
            if (!c.isTextual()) throw new ConfigException(f, at, "expected a file name, got " + c, "write the config's path relative to this file");
            Path p = dir.resolve(c.textValue()).normalize();
            if (!Files.isRegularFile(p)) throw new ConfigException(f, at, "config file " + c + " not found (looked in " + dir + ")", "give a path relative to the plan's folder");
            configs.add(p);
        }

        List<Long> seeds = null;
        JsonNode s = root.get("seeds");
        if (s != null) seeds = seeds(f, s);

        Budget budget = null;
        JsonNode b = root.get("budget");
        if (b != null) budget = budget(f, b);

        String baseline = string(f, "", root, "baseline", false);

        List<Hypothesis> hyps = new ArrayList<>();
        JsonNode hs = root.get("hypotheses");
        if (hs != null) {
            if (!hs.isArray()) throw new ConfigException(f, "/hypotheses", "expected an array", "write \"hypotheses\": [{\"id\": \"H1\", ...}]");
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < hs.size(); i++) {
                String at = "/hypotheses/" + i;
                JsonNode h = hs.get(i);
                if (!h.isObject()) throw new ConfigException(f, at, "expected an object", "write {\"id\": \"H1\", \"statement\": ..., \"falsified_if\": {...}}");
                onlyKnown(f, at, h, List.of("id", "statement", "falsified_if"));
                String id = string(f, at, h, "id", true);
                if (!ids.add(id)) throw new ConfigException(f, at + "/id", "duplicate id \"" + id + "\"", "give each hypothesis its own id");
                String statement = string(f, at, h, "statement", true);
                JsonNode fi = required(f, at, h, "falsified_if");
                String fat = at + "/falsified_if";
                if (!fi.isObject()) throw new ConfigException(f, fat, "expected an object", "write {\"config\": \"x\", \"vs\": \"baseline\", \"metric\": \"val_loss\", \"delta_greater_than\": -0.01}");
                onlyKnown(f, fat, fi, FALSIFIERS);
                String config = string(f, fat, fi, "config", true);
                String vs = string(f, fat, fi, "vs", false);
                if (vs == null) {
                    if (baseline == null) throw new ConfigException(f, fat + "/vs", "missing, and the plan has no baseline", "add \"vs\": \"<config name>\" or a top-level \"baseline\"");
                    vs = baseline;
                }
                String metric = string(f, fat, fi, "metric", false);
                if (metric == null) metric = "val_loss";
                if (!METRICS.contains(metric)) throw new ConfigException(f, fat + "/metric", "unknown metric \"" + metric + "\" (valid: " + String.join(", ", METRICS) + ")", "use one of them");
                boolean gt = fi.has("delta_greater_than"), lt = fi.has("delta_less_than");
                if (gt == lt) throw new ConfigException(f, fat, gt ? "both delta_greater_than and delta_less_than" : "no threshold", "give exactly one of delta_greater_than or delta_less_than");
                String key = gt ? "delta_greater_than" : "delta_less_than";
                JsonNode th = fi.get(key);
                if (!th.isNumber()) throw new ConfigException(f, fat + "/" + key, "expected a number, got " + th, "write e.g. -0.01");
                hyps.add(new Hypothesis(id, statement, config, vs, metric, th.doubleValue(), gt, fat));
            }
        }
        return new ExperimentPlan(file, question, List.copyOf(hyps), List.copyOf(configs), seeds, budget, baseline, root);
    }

    /** Checks that the baseline and every hypothesis name a config of the race. */
    public void checkNames(List<String> names) {
        String f = file.toString();
        if (baseline != null && !names.contains(baseline)) {
            throw new ConfigException(f, "/baseline", "no config named \"" + baseline + "\"", "use one of: " + String.join(", ", names));
        }
        for (Hypothesis h : hypotheses) {
            if (!names.contains(h.config())) throw new ConfigException(f, h.pointer() + "/config", "no config named \"" + h.config() + "\"", "use one of: " + String.join(", ", names));
            if (!names.contains(h.vs())) throw new ConfigException(f, h.pointer() + "/vs", "no config named \"" + h.vs() + "\"", "use one of: " + String.join(", ", names));
            if (h.vs().equals(h.config())) throw new ConfigException(f, h.pointer() + "/vs", "compares \"" + h.config() + "\" with itself", "name two different configs");
        }
    }

    /** {@code 3} means race seeds 0, 1, 2; {@code [1, 2, 3]} names them. */
    static List<Long> seeds(String f, JsonNode s) {
        if (s.isIntegralNumber()) {
            long n = s.longValue();
            if (n < 1 || n > 1000) throw new ConfigException(f, "/seeds", "must be between 1 and 1000, got " + n, "write the number of seeds, e.g. 3");
            List<Long> out = new ArrayList<>();
            for (long i = 0; i < n; i++) out.add(i);
            return out;
        }
        if (s.isArray() && !s.isEmpty()) {
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < s.size(); i++) {
                JsonNode v = s.get(i);
                if (!v.isIntegralNumber() || v.longValue() < 0) throw new ConfigException(f, "/seeds/" + i, "expected a whole number ≥ 0, got " + v, "write e.g. [0, 1, 2]");
                if (out.contains(v.longValue())) throw new ConfigException(f, "/seeds/" + i, "seed " + v + " is listed twice", "list each seed once");
                out.add(v.longValue());
            }
            return out;
        }
        throw new ConfigException(f, "/seeds", "expected a count or a non-empty array of seeds, got " + s, "write e.g. 3 or [0, 1, 2]");
    }

    static Budget budget(String f, JsonNode b) {
        if (!b.isObject() || b.size() != 1) {
            throw new ConfigException(f, "/budget", "expected an object with exactly one of " + String.join(", ", BUDGETS), "write e.g. {\"steps\": 200} or {\"time_budget\": \"5m\"} or {\"flops_budget\": 1e15}");
        }
        onlyKnown(f, "/budget", b, BUDGETS);
        String key = b.fieldNames().next();
        JsonNode v = b.get(key);
        String at = "/budget/" + key;
        return switch (key) {
            case "steps" -> {
                if (!v.isNumber() || v.doubleValue() != Math.rint(v.doubleValue()) || v.doubleValue() < 1 || v.doubleValue() > Integer.MAX_VALUE) {
                    throw new ConfigException(f, at, "expected a whole number of steps ≥ 1, got " + v, "write e.g. 200");
                }
                yield Budget.steps(v.intValue());
            }
            case "time_budget" -> {
                double sec = v.isNumber() ? (v.doubleValue() > 0 ? v.doubleValue() : Double.NaN) : v.isTextual() ? Budget.parseDuration(v.textValue()) : Double.NaN;
                if (Double.isNaN(sec)) throw new ConfigException(f, at, "cannot read " + v + " as a duration", "write e.g. \"90s\", \"5m\" or a number of seconds");
                yield Budget.time(sec);
            }
            default -> {
                if (!v.isNumber() || !(v.doubleValue() > 0) || !Double.isFinite(v.doubleValue())) throw new ConfigException(f, at, "expected a positive number of FLOPs, got " + v, "write e.g. 1e15");
                yield Budget.flops(v.doubleValue());
            }
        };
    }

    private static void onlyKnown(String f, String at, JsonNode obj, List<String> valid) {
        for (var it = obj.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!valid.contains(k)) {
                String near = null;
                for (String v : valid) if (close(k, v)) near = v;
                throw new ConfigException(f, at + "/" + k, "unknown field", near != null ? "did you mean \"" + near + "\"?" : "valid fields: " + String.join(", ", valid));
            }
        }
    }

    /** A likely typo: same letters give or take one edit, or one is a prefix of the other. */
    private static boolean close(String a, String b) {
        a = a.toLowerCase(java.util.Locale.ROOT);
        if (a.length() >= 3 && (b.startsWith(a) || a.startsWith(b))) return true;
        int n = a.length(), m = b.length();
        int[][] d = new int[n + 1][m + 1];
        for (int i = 0; i <= n; i++) d[i][0] = i;
        for (int j = 0; j <= m; j++) d[0][j] = j;
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= m; j++) {
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
        }
        return d[n][m] <= 2 && d[n][m] * 2 < Math.max(n, m);
    }

    private static JsonNode required(String f, String at, JsonNode obj, String key) {
        JsonNode v = obj.get(key);
        if (v == null) throw new ConfigException(f, at + "/" + key, "missing required field", "add \"" + key + "\"");
        return v;
    }

    private static String string(String f, String at, JsonNode obj, String key, boolean req) {
        JsonNode v = req ? required(f, at, obj, key) : obj.get(key);
        if (v == null) return null;
        if (!v.isTextual() || v.textValue().isBlank()) throw new ConfigException(f, at + "/" + key, "expected a non-empty string, got " + v, "write \"" + key + "\": \"...\"");
        return v.textValue();
    }
}
