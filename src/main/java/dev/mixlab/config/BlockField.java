package dev.mixlab.config;

/**
 * One JSON field a plug-in block accepts (see {@code docs/plugins.md}): its key, the type as shown
 * to users, its default, and a one-line meaning. Unknown keys are rejected with "did you mean".
 *
 * @param name         JSON key (not {@code type}, {@code repeat} or {@code mlp_mult}, which every block has)
 * @param type         type and range as shown in messages, e.g. {@code integer > 0}
 * @param defaultValue value when absent: Integer, Double, Boolean or String; null makes the field required
 * @param meaning      one-line description
 */
public record BlockField(String name, String type, Object defaultValue, String meaning) {
    /** @return a field that must be present */
    public static BlockField required(String name, String type, String meaning) {
        return new BlockField(name, type, null, meaning);
    }

    /** @return a field with a default */
    public static BlockField optional(String name, String type, Object defaultValue, String meaning) {
        if (defaultValue == null) throw new IllegalArgumentException("optional field " + name + " needs a default");
        return new BlockField(name, type, defaultValue, meaning);
    }

    FieldDoc doc() {
        return defaultValue == null ? FieldDoc.required(name, type, meaning) : FieldDoc.optional(name, type, defaultValue, meaning);
    }
}
