package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** Configs flattened to key paths ({@code training.lr}, {@code blocks[0].heads}) and compared. */
final class ConfigDiff {
    private ConfigDiff() {}

    /** One key path: its value in each config (null where the config lacks it), and whether they differ. */
    record Row(String key, List<String> values, boolean differs) {}

    static Map<String, String> flatten(JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten(n, "", out);
        return out;
    }

    private static void flatten(JsonNode n, String prefix, Map<String, String> out) {
        if (n == null || n.isMissingNode()) return;
        if (n.isObject() && !n.isEmpty()) {
            n.properties().forEach(e -> flatten(e.getValue(), prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), out));
        } else if (n.isArray() && !n.isEmpty()) {
            for (int i = 0; i < n.size(); i++) flatten(n.get(i), prefix + "[" + i + "]", out);
        } else {
            out.put(prefix.isEmpty() ? "(config)" : prefix, n.isTextual() ? n.asText() : n.toString());
        }
    }

    /** Rows for the union of keys, in first-seen order. */
    static List<Row> rows(List<JsonNode> configs) {
        List<Map<String, String>> flat = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        for (JsonNode c : configs) {
            Map<String, String> f = flatten(c);
            flat.add(f);
            keys.addAll(f.keySet());
        }
        List<Row> rows = new ArrayList<>();
        for (String k : keys) {
            List<String> vs = new ArrayList<>();
            for (Map<String, String> f : flat) vs.add(f.get(k));
            boolean differs = vs.stream().anyMatch(v -> !Objects.equals(v, vs.getFirst()));
            rows.add(new Row(k, vs, differs));
        }
        return rows;
    }
}
