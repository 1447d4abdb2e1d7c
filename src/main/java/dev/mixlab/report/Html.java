package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The report as one self-contained HTML page: inline CSS, inline SVG, a few lines of inline JS. */
final class Html {
    private Html() {}

    static final int PANEL_W = 560, PANEL_H = 330;

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    static String fmt(double v, int dec) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + dec + "f", v) : "—";
    }

    static String signed(double v, int dec) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+." + dec + "f", v) : "—";
    }

    static String count(double v) {
        if (!Double.isFinite(v)) return "—";
        if (Math.abs(v) >= 1e9) return Ticks.label(v, Math.pow(10, Math.floor(Math.log10(Math.abs(v))) - 2), v);
        return String.format(Locale.ROOT, "%,d", Math.round(v));
    }

    /** A table cell with a numeric sort key. */
    static String td(String text, double sortKey, String cls) {
        return "<td class=\"num" + (cls == null ? "" : " " + cls) + "\"" + (Double.isFinite(sortKey)
                ? String.format(Locale.ROOT, " data-v=\"%s\"", sortKey) : "") + ">" + esc(text) + "</td>";
    }

    static String swatch(Group g) {
        return "<span class=\"sw\" style=\"background:" + SvgCanvas.hex(LossChart.colour(g.colour())) + "\"></span>";
    }

    static String page(Report r, List<Axis> axes, Map<Axis, String> pngNames) {
        StringBuilder h = new StringBuilder(1 << 16);
        int runs = r.groups().stream().mapToInt(g -> g.runs().size()).sum();
        String title = r.inputs().stream().map(p -> p.toAbsolutePath().normalize().getFileName())
                .map(p -> p == null ? "/" : p.toString()).reduce((a, b) -> a + ", " + b).orElse("");
        h.append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n")
                .append("<title>mixlab report: ").append(esc(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        h.append("<header><h1>mixlab report</h1><p class=\"sub\">").append(esc(title)).append(" — ")
                .append(r.groups().size()).append(r.groups().size() == 1 ? " config, " : " configs, ")
                .append(runs).append(runs == 1 ? " run" : " runs").append("</p></header>\n");
        if (!r.warnings().isEmpty()) {
            h.append("<ul class=\"warn\">");
            for (String w : r.warnings()) h.append("<li>").append(esc(w)).append("</li>");
            h.append("</ul>\n");
        }

        h.append("<section id=\"curves\">\n<h2>Loss curves</h2>\n<div class=\"panels\">\n");
        for (Axis a : axes) {
            SvgCanvas c = new SvgCanvas(PANEL_W, PANEL_H, "chart chart-" + a.slug, "loss against " + a.label);
            LossChart.draw(c, r.groups(), a, PANEL_W, PANEL_H);
            h.append("<figure>").append(c.finish()).append("</figure>\n");
        }
        h.append("</div>\n<p class=\"note\">Solid: validation loss; dashed: training loss (mean of the interval logged). "
                + "Several seeds of one config: mean line, shaded min–max band.");
        if (!axes.contains(Axis.FLOPS)) h.append(" No FLOPs panel: FLOPs per token unknown.");
        if (!pngNames.isEmpty()) {
            h.append(" PNG:");
            for (var e : pngNames.entrySet()) h.append(" <a href=\"").append(esc(e.getValue())).append("\">").append(esc(e.getValue())).append("</a>");
        }
        h.append("</p>\n</section>\n");

        results(h, r);
        plans(h, r);
        configs(h, r);
        runsTable(h, r);
        h.append("<script>\n").append(JS).append("</script>\n</body>\n</html>\n");
        return h.toString();
    }

    private static void results(StringBuilder h, Report r) {
        h.append("<section id=\"results\">\n<h2>Results</h2>\n");
        Map<Race, List<Group>> byRace = new LinkedHashMap<>();
        for (Race race : r.races()) byRace.put(race, new ArrayList<>());
        List<Group> loose = new ArrayList<>();
        for (Group g : r.groups()) {
            if (g.race() == null) loose.add(g);
            else byRace.get(g.race()).add(g);
        }
        boolean headings = byRace.size() + (loose.isEmpty() ? 0 : 1) > 1;
        for (var e : byRace.entrySet()) {
            Race race = e.getKey();
            if (headings) h.append("<h3>race ").append(esc(race.dir().toString())).append("</h3>\n");
            describeRace(h, race);
            if (race.results().path("rows").isArray() && !race.results().path("rows").isEmpty()) raceTable(h, race, e.getValue());
            else computedTable(h, e.getValue(), race.baseline(), "results.json is absent: mean and sd of each run's final validation loss, computed here.");
            JsonNode anova = race.results().path("anova");
            if (anova.isObject() && !anova.isEmpty()) {
                h.append("<details class=\"anova\" open><summary>ANOVA</summary><table class=\"kv\">");
                for (var kv : ConfigDiff.flatten(anova).entrySet()) {
                    h.append("<tr><th>").append(esc(kv.getKey())).append("</th><td>").append(esc(kv.getValue())).append("</td></tr>");
                }
                h.append("</table></details>\n");
            }
        }
        if (!loose.isEmpty()) {
            if (headings) h.append("<h3>runs given directly</h3>\n");
            computedTable(h, loose, null, "Mean and sd of each run's final validation loss over the runs of each config.");
        }
        h.append("</section>\n");
    }

    private static void describeRace(StringBuilder h, Race race) {
        JsonNode s = race.spec();
        List<String> bits = new ArrayList<>();
        if (s.path("seeds").isArray()) bits.add("seeds " + s.path("seeds").toString());
        else if (s.has("seeds")) bits.add("seeds " + s.path("seeds").asText());
        if (s.has("budget")) bits.add("budget " + (s.path("budget").isValueNode() ? s.path("budget").asText() : s.path("budget").toString()));
        if (race.baseline() != null) bits.add("baseline " + race.baseline());
        if (!bits.isEmpty()) h.append("<p class=\"note\">").append(esc(String.join(" · ", bits))).append("</p>\n");
    }

    private static void raceTable(StringBuilder h, Race race, List<Group> groups) {
        Map<String, Group> byName = new LinkedHashMap<>();
        for (Group g : groups) byName.put(g.runs().isEmpty() ? g.label() : g.runs().getFirst().group(), g);
        double best = Double.POSITIVE_INFINITY;
        for (JsonNode row : race.results().path("rows")) best = Math.min(best, Report.num(row.path("val_loss_mean")));
        h.append("<table class=\"race sortable\">\n<thead><tr><th>config</th><th>params</th><th>FLOPs/token</th><th>val loss mean</th>"
                + "<th>sd</th><th>best</th><th>n</th><th>Δ vs baseline</th><th>95% CI of Δ</th><th>Cohen's d</th><th>tok/s</th><th>wall s</th></tr></thead>\n<tbody>\n");
        for (JsonNode row : race.results().path("rows")) {
            String name = row.path("name").asText("?");
            Group g = byName.get(name);
            double mean = Report.num(row.path("val_loss_mean"));
            double lo = Report.num(row.path("delta_ci_low")), hi = Report.num(row.path("delta_ci_high"));
            boolean baseline = name.equals(race.baseline());
            String dcls = hi < 0 ? "better" : lo > 0 ? "worse" : null;
            h.append("<tr class=\"").append(mean == best ? "best" : "").append(baseline ? " baseline" : "").append("\"><td class=\"name\">")
                    .append(g == null ? "" : swatch(g)).append(esc(name)).append(baseline ? " <small>(baseline)</small>" : "").append("</td>")
                    .append(td(count(Report.num(row.path("params"))), Report.num(row.path("params")), null))
                    .append(td(count(Report.num(row.path("flops_per_token"))), Report.num(row.path("flops_per_token")), null))
                    .append(td(fmt(mean, 4), mean, null))
                    .append(td(fmt(Report.num(row.path("val_loss_sd")), 4), Report.num(row.path("val_loss_sd")), null))
                    .append(td(fmt(Report.num(row.path("val_loss_best")), 4), Report.num(row.path("val_loss_best")), null))
                    .append(td(row.has("n") ? row.path("n").asText() : "—", Report.num(row.path("n")), null))
                    .append(td(baseline ? "—" : signed(Report.num(row.path("delta_vs_baseline")), 4), Report.num(row.path("delta_vs_baseline")), dcls))
                    .append(td(Double.isFinite(lo) || Double.isFinite(hi) ? "[" + signed(lo, 4) + ", " + signed(hi, 4) + "]" : "—", lo, dcls))
                    .append(td(fmt(Report.num(row.path("cohens_d")), 2), Report.num(row.path("cohens_d")), null))
                    .append(td(count(Report.num(row.path("tok_per_s"))), Report.num(row.path("tok_per_s")), null))
                    .append(td(fmt(Report.num(row.path("wall_s")), 1), Report.num(row.path("wall_s")), null))
                    .append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n<p class=\"note\">From results.json. Δ = config − baseline in mean final validation loss; "
                + "green: the whole interval below 0 (better), red: above 0 (worse).</p>\n");
    }

    record Stats(double mean, double sd, double best, int n) {
        static Stats of(List<Double> xs) {
            List<Double> v = xs.stream().filter(Double::isFinite).toList();
            int n = v.size();
            if (n == 0) return new Stats(Double.NaN, Double.NaN, Double.NaN, 0);
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = v.stream().mapToDouble(x -> (x - m) * (x - m)).sum();
            return new Stats(m, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN, v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN), n);
        }
    }

    static Stats finalVal(Group g) {
        return Stats.of(g.runs().stream().map(Run::finalValLoss).toList());
    }

    private static double meanOf(Group g, String field) {
        return g.runs().stream().mapToDouble(x -> x.summaryNum(field)).filter(Double::isFinite).average().orElse(Double.NaN);
    }

    private static void computedTable(StringBuilder h, List<Group> groups, String baselineName, String note) {
        Group base = groups.stream().filter(g -> baselineName != null && g.label().equals(baselineName)).findFirst()
                .orElse(groups.isEmpty() ? null : groups.getFirst());
        double baseMean = base == null ? Double.NaN : finalVal(base).mean();
        double best = groups.stream().mapToDouble(g -> finalVal(g).mean()).filter(Double::isFinite).min().orElse(Double.NaN);
        h.append("<table class=\"race computed sortable\">\n<thead><tr><th>config</th><th>params</th><th>FLOPs/token</th><th>val loss mean</th>"
                + "<th>sd</th><th>best</th><th>n</th><th>Δ vs ").append(esc(base == null ? "first" : base.label()))
                .append("</th><th>tok/s</th><th>wall s</th></tr></thead>\n<tbody>\n");
        for (Group g : groups) {
            Stats s = finalVal(g);
            h.append("<tr class=\"").append(s.mean() == best ? "best" : "").append(g == base ? " baseline" : "").append("\"><td class=\"name\">")
                    .append(swatch(g)).append(esc(g.label())).append("</td>")
                    .append(td(count(meanOf(g, "parameters")), meanOf(g, "parameters"), null))
                    .append(td(count(g.flopsPerToken()), g.flopsPerToken(), null))
                    .append(td(fmt(s.mean(), 4), s.mean(), null))
                    .append(td(fmt(s.sd(), 4), s.sd(), null))
                    .append(td(fmt(s.best(), 4), s.best(), null))
                    .append(td(Integer.toString(s.n()), s.n(), null))
                    .append(td(g == base ? "—" : signed(s.mean() - baseMean, 4), s.mean() - baseMean, null))
                    .append(td(count(meanOf(g, "tok_per_s")), meanOf(g, "tok_per_s"), null))
                    .append(td(fmt(meanOf(g, "wall_s"), 1), meanOf(g, "wall_s"), null))
                    .append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n<p class=\"note\">").append(esc(note)).append("</p>\n");
    }

    private static String verdictClass(String v) {
        String s = v.toLowerCase(Locale.ROOT);
        if (s.contains("falsif") || s.contains("reject") || s.contains("fail") || s.contains("refut")) return "v-bad";
        if (s.contains("support") || s.contains("confirm") || s.contains("pass") || s.contains("hold")) return "v-ok";
        return "v-open";
    }

    private static void plans(StringBuilder h, Report r) {
        List<Race> withPlan = r.races().stream().filter(x -> x.plan().isObject()).toList();
        if (withPlan.isEmpty()) return;
        h.append("<section id=\"plan\">\n<h2>Pre-registered plan and outcome</h2>\n");
        for (Race race : withPlan) {
            JsonNode plan = race.plan();
            if (withPlan.size() > 1) h.append("<h3>race ").append(esc(race.dir().toString())).append("</h3>\n");
            if (plan.path("question").isTextual()) {
                h.append("<p class=\"question\"><b>Question.</b> ").append(esc(plan.path("question").asText())).append("</p>\n");
            }
            Map<String, JsonNode> verdicts = new LinkedHashMap<>();
            for (JsonNode v : race.results().path("verdicts")) verdicts.put(v.path("id").asText(), v);
            h.append("<table class=\"plan\">\n<thead><tr><th>id</th><th>hypothesis</th><th>falsified if</th><th>verdict</th><th>Δ</th><th>95% CI</th></tr></thead>\n<tbody>\n");
            List<String> seen = new ArrayList<>();
            for (JsonNode hyp : plan.path("hypotheses")) {
                String id = hyp.path("id").asText("");
                seen.add(id);
                verdictRow(h, id, hyp.path("statement").asText(hyp.isTextual() ? hyp.asText() : ""), hyp.path("falsified_if").asText(""), verdicts.get(id));
            }
            for (var e : verdicts.entrySet()) if (!seen.contains(e.getKey())) verdictRow(h, e.getKey(), "(not in the plan)", "", e.getValue());
            h.append("</tbody>\n</table>\n");
            List<String> other = new ArrayList<>();
            for (var kv : ConfigDiff.flatten(plan).entrySet()) {
                if (!kv.getKey().startsWith("question") && !kv.getKey().startsWith("hypotheses")) other.add(kv.getKey() + ": " + kv.getValue());
            }
            if (!other.isEmpty()) h.append("<p class=\"note\">").append(esc(String.join(" · ", other))).append("</p>\n");
        }
        h.append("</section>\n");
    }

    private static void verdictRow(StringBuilder h, String id, String statement, String falsifiedIf, JsonNode v) {
        String verdict = v == null ? "no verdict yet" : v.path("verdict").asText("—");
        h.append("<tr><td>").append(esc(id)).append("</td><td>").append(esc(statement)).append("</td><td>").append(esc(falsifiedIf))
                .append("</td><td class=\"verdict ").append(v == null ? "v-open" : verdictClass(verdict)).append("\">").append(esc(verdict)).append("</td>");
        if (v == null) h.append("<td class=\"num\">—</td><td class=\"num\">—</td>");
        else {
            double lo = Report.num(v.path("ci_low")), hi = Report.num(v.path("ci_high"));
            h.append(td(signed(Report.num(v.path("delta")), 4), Double.NaN, null))
                    .append(td(Double.isFinite(lo) || Double.isFinite(hi) ? "[" + signed(lo, 4) + ", " + signed(hi, 4) + "]" : "—", Double.NaN, null));
        }
        h.append("</tr>\n");
    }

    private static void configs(StringBuilder h, Report r) {
        List<Group> gs = r.groups().stream().filter(g -> g.config().isObject()).toList();
        if (gs.isEmpty()) return;
        h.append("<section id=\"configs\">\n<h2>Configs</h2>\n");
        List<ConfigDiff.Row> rows = ConfigDiff.rows(gs.stream().map(Group::config).toList());
        List<ConfigDiff.Row> diff = rows.stream().filter(ConfigDiff.Row::differs).toList();
        List<ConfigDiff.Row> same = rows.stream().filter(x -> !x.differs()).toList();
        StringBuilder head = new StringBuilder("<thead><tr><th>key</th>");
        for (Group g : gs) head.append("<th>").append(swatch(g)).append(esc(g.label())).append("</th>");
        head.append("</tr></thead>\n");
        if (gs.size() > 1) {
            if (diff.isEmpty()) h.append("<p>The configs are identical.</p>\n");
            else {
                h.append("<p class=\"note\">").append(diff.size()).append(diff.size() == 1 ? " key differs" : " keys differ")
                        .append(" (highlighted: values unlike the first config's).</p>\n<table class=\"configs diff\">\n").append(head).append("<tbody>\n");
                for (ConfigDiff.Row row : diff) configRow(h, row, true);
                h.append("</tbody>\n</table>\n");
            }
        }
        h.append("<details").append(gs.size() == 1 ? " open" : "").append("><summary>").append(same.size())
                .append(gs.size() == 1 ? " keys" : " keys the same in every config").append("</summary>\n<table class=\"configs same\">\n")
                .append(head).append("<tbody>\n");
        for (ConfigDiff.Row row : same) configRow(h, row, false);
        h.append("</tbody>\n</table>\n</details>\n</section>\n");
    }

    private static void configRow(StringBuilder h, ConfigDiff.Row row, boolean mark) {
        h.append("<tr").append(mark ? " class=\"differs\"" : "").append("><th>").append(esc(row.key())).append("</th>");
        String first = row.values().getFirst();
        for (String v : row.values()) {
            boolean chg = mark && !java.util.Objects.equals(v, first);
            h.append("<td").append(chg ? " class=\"chg\"" : "").append(">").append(v == null ? "<i>absent</i>" : esc(v)).append("</td>");
        }
        h.append("</tr>\n");
    }

    private static void runsTable(StringBuilder h, Report r) {
        h.append("<section id=\"runs\">\n<details><summary>").append(r.groups().stream().mapToInt(g -> g.runs().size()).sum())
                .append(" run directories</summary>\n<table class=\"runs sortable\">\n<thead><tr><th>run</th><th>config</th><th>seed</th><th>status</th>"
                        + "<th>steps</th><th>tokens</th><th>loss first → last</th><th>val last</th><th>val best (step)</th><th>wall s</th><th>tok/s</th><th>backend</th></tr></thead>\n<tbody>\n");
        for (Group g : r.groups()) {
            for (Run run : g.runs()) {
                JsonNode s = run.summary();
                Path name = run.dir().getFileName();
                h.append("<tr><td title=\"").append(esc(run.dir().toString())).append("\">").append(esc(name == null ? run.dir().toString() : name.toString()))
                        .append("</td><td class=\"name\">").append(swatch(g)).append(esc(g.label())).append("</td>")
                        .append(td(run.seed() == null ? "—" : run.seed().toString(), run.seed() == null ? Double.NaN : run.seed(), null))
                        .append("<td>").append(esc(s.path("status").asText("—"))).append("</td>")
                        .append(td(count(run.summaryNum("steps")), run.summaryNum("steps"), null))
                        .append(td(count(run.summaryNum("tokens")), run.summaryNum("tokens"), null))
                        .append(td(fmt(run.summaryNum("first_loss"), 3) + " → " + fmt(run.summaryNum("last_loss"), 3), run.summaryNum("last_loss"), null))
                        .append(td(fmt(run.finalValLoss(), 4), run.finalValLoss(), null))
                        .append(td(fmt(run.bestValLoss(), 4) + (s.has("best_val_step") ? " (" + s.path("best_val_step").asText() + ")" : ""), run.bestValLoss(), null))
                        .append(td(fmt(run.summaryNum("wall_s"), 1), run.summaryNum("wall_s"), null))
                        .append(td(count(run.summaryNum("tok_per_s")), run.summaryNum("tok_per_s"), null))
                        .append("<td>").append(esc(s.path("backend").asText("—"))).append("</td></tr>\n");
            }
        }
        h.append("</tbody>\n</table>\n</details>\n</section>\n");
    }

    static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:0 auto;max-width:1160px;padding:8px 14px 40px}
            h1{font-size:22px;margin:10px 0 0}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}h3{font-size:15px;margin:14px 0 6px}
            .sub,.note{color:#555;margin:2px 0 8px}.note{font-size:12.5px}
            .panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:8px}
            figure{margin:0}svg.chart{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
            table{border-collapse:collapse;margin:4px 0 6px;font-size:13px}
            th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
            thead th{background:#f4f4f4;position:sticky;top:0}
            table.sortable thead th{cursor:pointer}
            td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            tr.best td{font-weight:bold}tr.baseline td.name{font-style:italic}
            td.better{background:#dff3df}td.worse{background:#f8dddd}
            .sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
            table.configs th{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:normal;background:#fafafa}
            table.configs thead th{font-family:inherit;font-weight:bold}
            table.configs td{font-family:ui-monospace,"DejaVu Sans Mono",monospace;max-width:360px;overflow-wrap:anywhere}
            tr.differs td,tr.differs th{background:#fff6d5}td.chg{background:#ffd966 !important;font-weight:bold}
            td.verdict{font-weight:bold}.v-ok{background:#dff3df}.v-bad{background:#f8dddd}.v-open{background:#eee;color:#555}
            .question{font-size:15px}.warn{color:#8a4b00;font-size:12.5px}
            details{margin:6px 0}summary{cursor:pointer;color:#333}
            """;

    /** Click a column head of a sortable table to sort by it (numbers by their data-v, else text). */
    static final String JS = """
            document.querySelectorAll('table.sortable').forEach(function (t) {
              t.querySelectorAll('thead th').forEach(function (th, col) {
                th.addEventListener('click', function () {
                  var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
                  var dir = th.dataset.dir === 'asc' ? -1 : 1;
                  th.dataset.dir = dir === 1 ? 'asc' : 'desc';
                  function key(r) {
                    var c = r.cells[col];
                    return c && c.dataset.v !== undefined ? parseFloat(c.dataset.v) : (c ? c.textContent : '');
                  }
                  rows.sort(function (a, b) {
                    var x = key(a), y = key(b);
                    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
                  });
                  rows.forEach(function (r) { body.appendChild(r); });
                });
              });
            });
            """;
}
