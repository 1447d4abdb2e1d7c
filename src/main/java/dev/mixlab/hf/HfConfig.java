package dev.mixlab.hf;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of a Hugging Face {@code config.json}; every problem is one line naming the field. */
record HfConfig(String file, JsonNode root) {
    /** The first of {@code architectures}, else the {@code model_type}. */
    String architecture() {
        JsonNode a = root.path("architectures");
        if (a.isArray() && !a.isEmpty()) return a.get(0).asText();
        String type = root.path("model_type").asText("");
        return switch (type) {
            case "llama" -> "LlamaForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            case "gpt2" -> "GPT2LMHeadModel";
            default -> type.isEmpty() ? "(none)" : type;
        };
    }

    private JsonNode get(String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v;
    }

    int integer(String key) {
        Integer v = integerOrNull(key);
        if (v == null) throw new HfException(file + ": missing \"" + key + "\" (an integer)");
        return v;
    }

    int integerOr(String key, int def) {
        Integer v = integerOrNull(key);
        return v == null ? def : v;
    }

    Integer integerOrNull(String key) {
        JsonNode v = get(key);
        if (v == null) return null;
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new HfException(file + ": \"" + key + "\" is " + v + ", expected an integer");
        }
        return v.intValue();
    }

    double numberOr(String key, double def) {
        JsonNode v = get(key);
        if (v == null) return def;
        if (!v.isNumber()) throw new HfException(file + ": \"" + key + "\" is " + v + ", expected a number");
        return v.doubleValue();
    }

    boolean boolOr(String key, boolean def) {
        JsonNode v = get(key);
        if (v == null) return def;
        if (!v.isBoolean()) throw new HfException(file + ": \"" + key + "\" is " + v + ", expected true or false");
        return v.booleanValue();
    }

    String stringOr(String key, String def) {
        JsonNode v = get(key);
        return v == null ? def : v.asText();
    }

    /** Refuses unless the field is absent or equals {@code want}. */
    void require(String key, String want, String supported) {
        String v = stringOr(key, want);
        if (!v.equals(want)) throw refuse(key, "\"" + v + "\"", supported);
    }

    /** Refuses unless the field is absent, null, or a {@code rope_type}/{@code type} of {@code "default"}. */
    void requireNull(String key, String supported) {
        JsonNode v = get(key);
        if (v == null) return;
        String type = v.path("rope_type").asText(v.path("type").asText(""));
        if (v.isObject() && type.equals("default") && v.size() == 1) return;
        throw refuse(key, v.toString(), supported);
    }

    HfException refuse(String key, String got, String supported) {
        return new HfException(file + ": \"" + key + "\" is " + got + ", which mixlab does not support (supported: "
                + supported + ")");
    }
}
