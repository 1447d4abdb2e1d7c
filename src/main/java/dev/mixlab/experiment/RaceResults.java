package dev.mixlab.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.stats.Stats;
import dev.mixlab.train.ModelReport;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * results.json of a race: per config the final validation loss over seeds (mean, sd, best, n),
 * its difference from the baseline with a 95% Welch interval, Cohen's d, speed and time; a
 * one-way ANOVA across configs; and, with a plan, a verdict per hypothesis.
 */
public final class RaceResults {
    private RaceResults() {}

    /** Confidence level of every interval in results.json. */
    public static final double LEVEL = 0.95;

    static ObjectNode compute(Race.Spec s, Budget budget, Map<String, ModelReport> reports, Map<String, Integer> steps,
                              Map<String, List<JsonNode>> summaries) {
        String base = s.baselineName();
        ObjectNode r = Race.JSON.createObjectNode();
        if (s.plan() != null) r.put("question", s.plan().question());
        r.put("metric", "val_loss: the final validation loss of each run, nats per token");
        r.put("baseline", base);
        r.set("budget", budget.toJson());
        r.put("confidence_level", LEVEL);
        Map<String, Map<String, double[]>> metrics = new LinkedHashMap<>();
        for (var e : summaries.entrySet()) {
            Map<String, double[]> m = new LinkedHashMap<>();
            for (String metric : ExperimentPlan.METRICS) m.put(metric, values(e.getValue(), metric));
            m.put("wall_s", values(e.getValue(), "wall_s"));
            metrics.put(e.getKey(), m);
        }
        double[] baseVals = metrics.get(base).get("val_loss");
        List<ObjectNode> rows = new ArrayList<>();
        for (Race.Entry e : s.entries()) {
            String name = e.name();
            double[] v = metrics.get(name).get("val_loss");
            ModelReport rep = reports.get(name);
            ObjectNode row = Race.JSON.createObjectNode();
            row.put("name", name).put("file", e.file() == null ? null : e.file().toString())
                    .put("config_hash", ConfigWriter.hash(e.config())).put("baseline", name.equals(base))
                    .put("params", rep.parameters()).put("flops_per_token", rep.trainFlopsPerToken())
                    .put("steps", steps.get(name));
            ObjectNode vl = row.putObject("val_loss");
            num(vl, "mean", Stats.mean(v));
            num(vl, "sd", Stats.sd(v));
            num(vl, "best", v.length == 0 ? Double.NaN : java.util.Arrays.stream(v).min().getAsDouble());
            vl.put("n", v.length);
            ArrayNode vals = vl.putArray("values");
            for (double x : v) vals.add(x);
            row.set("delta_vs_baseline", name.equals(base) ? null : delta(v, baseVals));
            num(row, "cohens_d", name.equals(base) ? Double.NaN : Stats.cohensD(v, baseVals));
            num(row, "tok_per_s_mean", Stats.mean(metrics.get(name).get("tok_per_s")));
            double wall = 0;
            for (double w : metrics.get(name).get("wall_s")) wall += w;
            num(row, "wall_s", wall);
            ArrayNode runs = row.putArray("runs");
            List<JsonNode> sums = summaries.get(name);
            int failed = 0;
            for (int i = 0; i < sums.size(); i++) {
                JsonNode sum = sums.get(i);
                long seed = s.seeds().get(i);
                ObjectNode run = runs.addObject();
                run.put("seed", seed).put("dir", "runs/" + name + "-s" + seed).put("status", sum.path("status").asText("crashed"));
                num(run, "val_loss", sum.path("last_val_loss").asDouble(Double.NaN));
                if (!ok(sum)) failed++;
            }
            row.put("failed", failed);
            rows.add(row);
        }
        rows.sort(Comparator.comparingDouble(row -> {
            double m = row.path("val_loss").path("mean").asDouble(Double.NaN);
            return Double.isNaN(m) ? Double.POSITIVE_INFINITY : m;
        }));
        ArrayNode rowArr = r.putArray("rows");
        for (int i = 0; i < rows.size(); i++) {
            ObjectNode row = rows.get(i);
            ObjectNode ranked = Race.JSON.createObjectNode().put("rank", i + 1);
            ranked.setAll(row);
            rowArr.add(ranked);
        }
        List<double[]> groups = new ArrayList<>();
        List<String> groupNames = new ArrayList<>();
        for (var e : metrics.entrySet()) {
            if (e.getValue().get("val_loss").length >= 2) {
                groups.add(e.getValue().get("val_loss"));
                groupNames.add(e.getKey());
            }
        }
        if (groups.size() >= 2) {
            Stats.AnovaResult a = Stats.anova(groups);
            ObjectNode an = r.putObject("anova");
            ArrayNode names = an.putArray("configs");
            groupNames.forEach(names::add);
            num(an, "f", a.f());
            an.put("df_between", a.dfBetween()).put("df_within", a.dfWithin());
            num(an, "p", a.p());
        } else {
            r.putNull("anova");
        }
        if (s.plan() != null) {
            ArrayNode hs = r.putArray("hypotheses");
            for (ExperimentPlan.Hypothesis h : s.plan().hypotheses()) {
                hs.add(verdict(h, metrics.get(h.config()).get(h.metric()), metrics.get(h.vs()).get(h.metric())));
            }
        }
        return r;
    }

    private static boolean ok(JsonNode sum) {
        return "ok".equals(sum.path("status").asText()) && Double.isFinite(sum.path("last_val_loss").asDouble(Double.NaN));
    }

    /** @return the metric of every ok run (a diverged or crashed run has no loss to average) */
    static double[] values(List<JsonNode> sums, String metric) {
        String key = switch (metric) {
            case "val_loss" -> "last_val_loss";
            default -> metric;
        };
        return sums.stream().filter(RaceResults::ok).mapToDouble(n -> n.path(key).asDouble(Double.NaN))
                .filter(Double::isFinite).toArray();
    }

    /** @return mean(a) − mean(b) with the Welch interval when both have two values or more; null when either has none */
    static ObjectNode delta(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) return null;
        ObjectNode d = Race.JSON.createObjectNode();
        num(d, "delta", Stats.mean(a) - Stats.mean(b));
        if (a.length >= 2 && b.length >= 2) {
            Stats.WelchResult w = Stats.welch(a, b, LEVEL);
            num(d, "ci_lo", w.df() > 0 ? w.lo() : Double.NaN);
            num(d, "ci_hi", w.df() > 0 ? w.hi() : Double.NaN);
            num(d, "df", w.df());
            num(d, "p", w.p());
        } else {
            d.putNull("ci_lo").putNull("ci_hi").putNull("df").putNull("p");
        }
        d.put("level", LEVEL);
        return d;
    }

    /**
     * The verdict of one hypothesis: falsified when the measured difference of means lies beyond its
     * threshold. {@code ci} says where the 95% interval lies: wholly on the falsifying side, wholly on
     * the other, or across the threshold (the data cannot tell at that level).
     */
    static ObjectNode verdict(ExperimentPlan.Hypothesis h, double[] a, double[] b) {
        ObjectNode o = Race.JSON.createObjectNode();
        o.put("id", h.id()).put("statement", h.statement()).put("config", h.config()).put("vs", h.vs())
                .put("metric", h.metric()).put("falsified_if", h.rule())
                .put(h.greater() ? "delta_greater_than" : "delta_less_than", h.threshold());
        ObjectNode d = delta(a, b);
        if (d == null) {
            o.putNull("delta").putNull("ci_lo").putNull("ci_hi");
            o.put("verdict", "no data").put("ci", "no data");
            return o;
        }
        double delta = d.get("delta").asDouble();
        num(o, "delta", delta);
        o.set("ci_lo", d.get("ci_lo"));
        o.set("ci_hi", d.get("ci_hi"));
        o.put("n", a.length).put("n_vs", b.length);
        boolean falsified = h.greater() ? delta > h.threshold() : delta < h.threshold();
        o.put("verdict", falsified ? "falsified" : "not falsified");
        String ci;
        if (!d.get("ci_lo").isNumber()) {
            ci = "no interval (fewer than two runs, or no spread)";
        } else {
            double lo = d.get("ci_lo").asDouble(), hi = d.get("ci_hi").asDouble();
            boolean beyond = h.greater() ? lo > h.threshold() : hi < h.threshold();
            boolean within = h.greater() ? hi <= h.threshold() : lo >= h.threshold();
            ci = beyond ? "falsified at 95%" : within ? "not falsified at 95%" : "inconclusive at 95%";
        }
        o.put("ci", ci);
        return o;
    }

    private static void num(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    /** @return the ranked table, the ANOVA line and, with a plan, hypotheses beside their outcome */
    public static String render(JsonNode r) {
        StringBuilder sb = new StringBuilder();
        String base = r.path("baseline").asText();
        TextTable t = new TextTable("#", "config", "params", "FLOPs/token", "val loss mean ± sd", "best", "n",
                "Δ vs " + base + " [95% CI]", "Cohen's d", "tok/s", "time");
        for (JsonNode row : r.path("rows")) {
            JsonNode vl = row.path("val_loss");
            String mean = vl.path("mean").isNumber()
                    ? f4(vl.path("mean")) + (vl.path("sd").isNumber() ? " ± " + f4(vl.path("sd")) : "") : "—";
            JsonNode d = row.path("delta_vs_baseline");
            String delta = d.isObject() ? signed(d.path("delta"))
                    + (d.path("ci_lo").isNumber() ? " [" + signed(d.path("ci_lo")) + ", " + signed(d.path("ci_hi")) + "]" : "") : "—";
            int failed = row.path("failed").asInt();
            t.add(row.path("rank").asText(), row.path("name").asText() + (row.path("baseline").asBoolean() ? " (baseline)" : "")
                            + (failed > 0 ? " (" + failed + " failed)" : ""),
                    String.format(Locale.ROOT, "%,d", row.path("params").asLong()),
                    String.format(Locale.ROOT, "%.3g", row.path("flops_per_token").asDouble()),
                    mean, vl.path("best").isNumber() ? f4(vl.path("best")) : "—", vl.path("n").asText(), delta,
                    row.path("cohens_d").isNumber() ? String.format(Locale.ROOT, "%+.2f", row.path("cohens_d").asDouble()) : "—",
                    row.path("tok_per_s_mean").isNumber() ? String.format(Locale.ROOT, "%,.0f", row.path("tok_per_s_mean").asDouble()) : "—",
                    dev.mixlab.train.Durations.format(row.path("wall_s").asDouble()));
        }
        sb.append(t.render());
        JsonNode a = r.path("anova");
        if (a.isObject()) {
            sb.append(String.format(Locale.ROOT, "one-way ANOVA of val loss across %s: F(%d, %d) = %s, p = %s%n",
                    String.join(", ", names(a.path("configs"))), a.path("df_between").asInt(), a.path("df_within").asInt(),
                    a.path("f").isNumber() ? String.format(Locale.ROOT, "%.3g", a.path("f").asDouble()) : "undefined (no spread)",
                    a.path("p").isNumber() ? String.format(Locale.ROOT, "%.3g", a.path("p").asDouble()) : "—"));
        }
        if (r.has("hypotheses")) {
            sb.append("\nquestion: ").append(r.path("question").asText()).append('\n');
            TextTable h = new TextTable("id", "statement (plan)", "falsified if (plan)", "measured Δ [95% CI]", "verdict", "95% CI says");
            for (JsonNode x : r.path("hypotheses")) {
                String m = x.path("delta").isNumber() ? signed(x.path("delta"))
                        + (x.path("ci_lo").isNumber() ? " [" + signed(x.path("ci_lo")) + ", " + signed(x.path("ci_hi")) + "]" : "") : "—";
                h.add(x.path("id").asText(), x.path("statement").asText(), x.path("falsified_if").asText(), m,
                        x.path("verdict").asText(), x.path("ci").asText());
            }
            sb.append(h.render());
        }
        return sb.toString();
    }

    private static List<String> names(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String f4(JsonNode n) {
        return String.format(Locale.ROOT, "%.4f", n.asDouble());
    }

    private static String signed(JsonNode n) {
        return String.format(Locale.ROOT, "%+.4f", n.asDouble());
    }
}
