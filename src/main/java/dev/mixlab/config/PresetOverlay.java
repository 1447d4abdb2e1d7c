package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Lays a config file over its {@code preset} (see {@link Presets}). */
final class PresetOverlay {
    private PresetOverlay() {}

    /**
     * @param root the user's parsed file (a JSON object)
     * @param file file name for errors
     * @return {@code root} itself when it has no {@code preset}; else the preset laid under it, without {@code preset}
     */
    static JsonNode apply(JsonNode root, String file) {
        if (!root.isObject() || !root.has("preset")) return root;
        JsonNode p = root.get("preset");
        List<String> valid = Presets.names();
        if (!p.isTextual()) {
            throw new ConfigException(file, "/preset", "expected a string, got " + FieldReader.describe(p),
                    "use one of " + String.join(", ", valid));
        }
        String name = p.textValue();
        String missing = Presets.NOT_BUILT.get(name);
        if (missing != null) {
            throw new ConfigException(file, "/preset", "preset \"" + name + "\" needs the block type \"" + missing
                    + "\", which is not built yet", "use one of " + String.join(", ", valid)
                    + ", or write the blocks yourself");
        }
        Presets.Preset preset = Presets.ALL.get(name);
        if (preset == null) {
            throw new ConfigException(file, "/preset", FieldReader.badChoice("preset", name, valid),
                    "did you mean \"" + Suggest.closest(name, valid) + "\"?");
        }
        ObjectNode base;
        try {
            base = (ObjectNode) ConfigLoader.MAPPER.readTree(preset.json());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("preset " + name + " is not valid JSON", e);
        }
        ObjectNode user = ((ObjectNode) root).deepCopy();
        user.remove("preset");
        JsonNode templates = base.get("blocks");
        JsonNode blocks = user.get("blocks");
        // A family's template has no size: without the file's blocks, report "/blocks" missing, not its heads.
        if (blocks == null && !templates.get(0).has("heads")) base.remove("blocks");
        if (blocks != null && blocks.isArray()) {
            ArrayNode merged = ConfigLoader.MAPPER.createArrayNode();
            for (JsonNode b : blocks) {
                JsonNode template = templateFor(b, templates);
                merged.add(template != null ? overlay(template.deepCopy(), b) : b);
            }
            user.set("blocks", merged);
        }
        return overlay(base, user);
    }

    /** The preset block a file's block is laid over: the first one without a type, else the first of its type; or null. */
    private static JsonNode templateFor(JsonNode block, JsonNode templates) {
        if (!block.isObject()) return null;
        JsonNode t = block.get("type");
        if (t == null) return templates.get(0);
        for (JsonNode template : templates) if (t.equals(template.get("type"))) return template;
        return null;
    }

    /** Lays {@code top} over {@code base}: objects merge key by key, anything else replaces. */
    private static JsonNode overlay(JsonNode base, JsonNode top) {
        if (!(base instanceof ObjectNode b) || !top.isObject()) return top;
        for (var e : top.properties()) {
            JsonNode under = b.get(e.getKey());
            b.set(e.getKey(), under == null ? e.getValue() : overlay(under, e.getValue()));
        }
        return b;
    }
}
