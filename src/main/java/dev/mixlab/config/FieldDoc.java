package dev.mixlab.config;

import java.util.List;

/**
 * One config field: drives both binding (valid keys, defaults) and the generated reference doc.
 *
 * @param name         JSON key
 * @param type         type and allowed range as shown in the doc, e.g. {@code integer > 0}
 * @param required     the key must be present
 * @param defaultValue value used when absent (Integer, Long, Double, Boolean, String or a JsonEnum);
 *                     null when required or derived from other fields
 * @param defaultText  default as shown in the doc
 * @param meaning      one-line description
 * @param aliases      common other spellings, used only to suggest this key for a misspelt one
 */
record FieldDoc(String name, String type, boolean required, Object defaultValue, String defaultText,
                String meaning, List<String> aliases) {

    FieldDoc {
        aliases = List.copyOf(aliases);
    }

    static FieldDoc required(String name, String type, String meaning) {
        return new FieldDoc(name, type, true, null, "required", meaning, List.of());
    }

    static FieldDoc optional(String name, String type, Object defaultValue, String meaning) {
        return new FieldDoc(name, type, false, defaultValue, show(defaultValue), meaning, List.of());
    }

    /** A field whose default depends on other fields; the binder computes it. */
    static FieldDoc derived(String name, String type, String defaultText, String meaning) {
        return new FieldDoc(name, type, false, null, defaultText, meaning, List.of());
    }

    FieldDoc aka(String... names) {
        return new FieldDoc(name, type, required, defaultValue, defaultText, meaning, List.of(names));
    }

    private static String show(Object v) {
        return switch (v) {
            case null -> "null";
            case JsonEnum e -> "`" + e.jsonName() + "`";
            case String s -> "`\"" + s + "\"`";
            case Double d -> Double.toString(d).replace("E", "e");
            default -> v.toString();
        };
    }
}
