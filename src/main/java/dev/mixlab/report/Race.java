package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * A race directory: {@code race.json} (configs, seeds, budget, baseline, optional plan) and
 * {@code results.json} (rows, optional anova and verdicts); either may be a missing node.
 */
public record Race(Path dir, JsonNode spec, JsonNode results) {

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
