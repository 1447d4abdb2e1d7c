package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The runs of one config (its seeds), drawn as one colour.
 *
 * @param label the name shown in legends and tables
 * @param config the resolved config (from the first run, else from race.json), or a missing node
 * @param flopsPerToken training FLOPs per token, NaN when unknown
 * @param race the race this config belongs to, or null for runs given directly
 */
public record Group(String label, int colour, List<Run> runs, JsonNode config, double flopsPerToken, Race race) {}
