package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads typed fields of one JSON object against its {@link SectionDoc}: rejects unknown keys,
 * applies schema defaults, and reports every problem at its JSON pointer.
 */
final class FieldReader {
    private final String file;
    private final String pointer;
    private final JsonNode obj;
    private final SectionDoc section;

    /** @param node the object to read; anything else is reported as a type error at {@code pointer} */
    FieldReader(String file, String pointer, JsonNode node, SectionDoc section) {
        this.file = file;
        this.pointer = pointer;
        this.obj = node;
        this.section = section;
        if (!node.isObject()) {
            throw new ConfigException(file, pointer, "expected an object, got " + describe(node),
                    "write { \"field\": value, ... }");
        }
        rejectUnknownKeys();
    }

    /** @return the schema section this reader binds */
    SectionDoc section() {
        return section;
    }

    /** A reader for element {@code index} of the array at {@code key}, an object of {@code section}. */
    FieldReader child(String key, int index, JsonNode node, SectionDoc section) {
        return new FieldReader(file, at(key) + "/" + index, node, section);
    }

    /** @return JSON pointer of {@code key} inside this object */
    String at(String key) {
        return child(pointer, key);
    }

    static String child(String pointer, String key) {
        return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
    }

    ConfigException error(String key, String problem, String fix) {
        return new ConfigException(file, at(key), problem, fix);
    }

    /** Throws {@code problem; fix} at {@code key} unless {@code ok}. */
    void check(boolean ok, String key, String problem, String fix) {
        if (!ok) throw error(key, problem, fix);
    }

    /** @return the raw node, or null when absent and optional */
    JsonNode node(String key) {
        FieldDoc f = section.field(key);
        JsonNode v = obj.get(key);
        if (v == null && f.required()) {
            throw error(key, "missing required field", "add \"" + key + "\" (" + f.type() + ")");
        }
        return v;
    }

    int integer(String key) {
        Integer v = optInteger(key);
        return v != null ? v : (Integer) section.field(key).defaultValue();
    }

    Integer optInteger(String key) {
        Long v = optLong(key);
        if (v == null) return null;
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw error(key, v + " is out of range", "use a value up to " + Integer.MAX_VALUE);
        }
        return v.intValue();
    }

    long longValue(String key) {
        Long v = optLong(key);
        return v != null ? v : (Long) section.field(key).defaultValue();
    }

    private Long optLong(String key) {
        JsonNode v = node(key);
        if (v == null) return null;
        if (v.isIntegralNumber()) {
            if (!v.canConvertToLong()) throw error(key, v.asText() + " is out of range", "use a smaller integer");
            return v.longValue();
        }
        if (v.isFloatingPointNumber()) {
            double d = v.doubleValue();
            // 1e3 is a fine way to write 1000; 1.5 is not an integer.
            if (d == Math.rint(d)) {
                if (Math.abs(d) < 0x1p62) return (long) d;
                throw error(key, v.asText() + " is out of range", "use a smaller integer");
            }
            throw error(key, "expected an integer, got " + describe(v), "use a whole number");
        }
        throw typeError(key, "an integer", v);
    }

    double number(String key) {
        Double v = optNumber(key);
        return v != null ? v : (Double) section.field(key).defaultValue();
    }

    Double optNumber(String key) {
        JsonNode v = node(key);
        if (v == null) return null;
        if (!v.isNumber()) throw typeError(key, "a number", v);
        double d = v.doubleValue();
        if (!Double.isFinite(d)) throw error(key, v.asText() + " is not a finite number", "use a smaller number");
        return d;
    }

    boolean bool(String key) {
        JsonNode v = node(key);
        if (v == null) return (Boolean) section.field(key).defaultValue();
        if (!v.isBoolean()) throw typeError(key, "a boolean", v);
        return v.booleanValue();
    }

    /** @return the string, or the schema default (possibly null) when absent; JSON null is allowed */
    String nullableString(String key) {
        JsonNode v = node(key);
        if (v == null) return (String) section.field(key).defaultValue();
        if (v.isNull()) return null;
        if (!v.isTextual()) throw typeError(key, "a string or null", v);
        return v.textValue();
    }

    /** @return the string, or null when absent */
    String optString(String key) {
        JsonNode v = node(key);
        if (v == null) return null;
        if (!v.isTextual()) throw typeError(key, "a string", v);
        return v.textValue();
    }

    <E extends Enum<E> & JsonEnum> E enumValue(String key, E[] values) {
        JsonNode v = node(key);
        if (v == null) {
            @SuppressWarnings("unchecked")
            E def = (E) section.field(key).defaultValue();
            return def;
        }
        if (!v.isTextual()) throw typeError(key, "a string", v);
        String s = v.textValue();
        for (E e : values) if (e.jsonName().equals(s)) return e;
        var names = java.util.Arrays.stream(values).map(JsonEnum::jsonName).toList();
        throw error(key, badChoice("value", s, names), "did you mean \"" + Suggest.closest(s, names) + "\"?");
    }

    /** @return e.g. {@code unknown value "x" (valid: a, b)} */
    static String badChoice(String what, String got, java.util.List<String> valid) {
        return "unknown " + what + " " + quote(got) + " (valid: " + String.join(", ", valid) + ")";
    }

    private ConfigException typeError(String key, String expected, JsonNode got) {
        return error(key, "expected " + expected + ", got " + describe(got),
                "the field takes " + section.field(key).type());
    }

    private void rejectUnknownKeys() {
        Map<String, String> spellings = new LinkedHashMap<>();
        for (FieldDoc f : section.fields()) {
            spellings.put(f.name(), f.name());
            for (String a : f.aliases()) spellings.putIfAbsent(a, f.name());
        }
        for (var entry : obj.properties()) {
            String key = entry.getKey();
            if (section.names().contains(key)) continue;
            String near = Suggest.near(key, spellings);
            throw error(key, "unknown field", near != null
                    ? "did you mean \"" + near + "\"?"
                    : "valid fields: " + String.join(", ", section.names()));
        }
    }

    /** @return a short, one-line rendering of a JSON value for error messages */
    static String describe(JsonNode v) {
        if (v.isObject()) return "an object";
        if (v.isArray()) return "an array";
        String s = v.isTextual() ? quote(v.textValue()) : v.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    static String quote(String s) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    }
}
