package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * A race directory: {@code race.json} (configs, seeds, budget, baseline, optional plan) and
 * {@code results.json} (rows, optional anova and verdicts); either may be a missing node.
 */
public record Race(Path dir, JsonNode spec, JsonNode results) {
    /**
     * Reads results.json as {@code mixlab race} writes it (nested {@code val_loss}, {@code
     * delta_vs_baseline}, {@code hypotheses}) into the flat fields the page uses
     * ({@code val_loss_mean}, {@code delta_ci_low}, {@code verdicts}, ...); flat files pass unchanged.
     */
    public Race {
        if (results != null && results.isObject()) results = flatten((com.fasterxml.jackson.databind.node.ObjectNode) results.deepCopy());
    }

    private static JsonNode flatten(com.fasterxml.jackson.databind.node.ObjectNode r) {
        for (JsonNode row : r.path("rows")) {
            if (!(row instanceof com.fasterxml.jackson.databind.node.ObjectNode o)) continue;
            JsonNode v = o.path("val_loss");
            if (v.isObject()) {
                o.set("val_loss_mean", v.path("mean"));
                o.set("val_loss_sd", v.path("sd"));
                o.set("val_loss_best", v.path("best"));
                o.set("n", v.path("n"));
            }
            JsonNode d = o.path("delta_vs_baseline");
            if (d.isObject()) {
                o.set("delta_ci_low", d.path("ci_lo"));
                o.set("delta_ci_high", d.path("ci_hi"));
                o.set("delta_vs_baseline", d.path("delta"));
            }
            if (!o.has("tok_per_s") && o.has("tok_per_s_mean")) o.set("tok_per_s", o.path("tok_per_s_mean"));
        }
        if (!r.has("verdicts") && r.path("hypotheses").isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode vs = r.putArray("verdicts");
            for (JsonNode h : r.path("hypotheses")) {
                com.fasterxml.jackson.databind.node.ObjectNode c = h.deepCopy();
                if (c.has("ci_lo")) c.set("ci_low", c.path("ci_lo"));
                if (c.has("ci_hi")) c.set("ci_high", c.path("ci_hi"));
                vs.add(c);
            }
        }
        return r;
    }


    /** The baseline config's name, or null. */
    public String baseline() {
        JsonNode b = spec.path("baseline");
        if (b.isTextual()) return b.asText();
        if (b.isObject() && b.path("name").isTextual()) return b.path("name").asText();
        return null;
    }

    /** The pre-registered plan ({@code plan}, or {@code experiment}), or a missing node. */
    public JsonNode plan() {
        return spec.has("plan") ? spec.path("plan") : spec.path("experiment");
    }
}
