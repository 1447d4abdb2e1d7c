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
        // A family has no size (no model_dim): without the file's blocks, report "/blocks" missing, not a template's field.
        if (blocks == null && !base.has("model_dim")) base.remove("blocks");
        if (blocks != null && blocks.isArray()) {
            ArrayNode merged = ConfigLoader.MAPPER.createArrayNode();
            for (JsonNode b : blocks) merged.add(overTemplate(b, templates));
            user.set("blocks", merged);
        }
        return overlay(base, user);
    }

    /** {@code block} laid over its template; a {@code group}'s sub-blocks each over theirs (a hybrid's pattern is a group). */
    private static JsonNode overTemplate(JsonNode block, JsonNode templates) {
        JsonNode t = block.get("type");
        if (block.isObject() && t != null && t.asText().equals(GroupBlock.TYPE) && block.get("blocks") instanceof ArrayNode sub) {
            ObjectNode g = ((ObjectNode) block).deepCopy();
            ArrayNode merged = ConfigLoader.MAPPER.createArrayNode();
            for (JsonNode b : sub) merged.add(overTemplate(b, templates));
            g.set("blocks", merged);
            return g;
        }
        JsonNode template = templateFor(block, templates);
        return template != null ? overlay(template.deepCopy(), block) : block;
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
