package dev.mixlab.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads config files: JSON with comments and trailing commas, strictly validated. */
public final class ConfigLoader {
    private ConfigLoader() {}

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            // A key given twice is almost always a mistake; the default silently keeps the last one.
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * Loads and validates a config file.
     *
     * @param file path of the JSON file; the run name defaults to its name without {@code .json}
     * @return the resolved config
     * @throws ConfigException if the file is missing, unreadable, malformed or invalid
     */
    public static Config load(Path file) {
        String name = file.toString();
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, "", "file not found", "check the path");
        } catch (IOException e) {
            throw new ConfigException(name, "", "cannot read file (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + ")", "check that it is a readable UTF-8 text file");
        }
        return parse(json, name);
    }

    /**
     * Parses and validates config text.
     *
     * @param json       the config text
     * @param sourceName file name used in error messages and for the default run name
     * @return the resolved config
     * @throws ConfigException if the text is malformed or invalid
     */
    public static Config parse(String json, String sourceName) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            String detail = e.getOriginalMessage().lines().findFirst().orElse("").strip();
            if (detail.startsWith("Duplicate field")) {
                throw new ConfigException(sourceName, "", detail.toLowerCase(java.util.Locale.ROOT) + where,
                        "keep only one of them");
            }
            String fix = loc == null ? "fix the JSON syntax"
                    : "fix the JSON syntax near " + loc.getLineNr() + ":" + loc.getColumnNr();
            throw new ConfigException(sourceName, "", "malformed JSON" + where + ": " + detail, fix);
        }
        if (root == null || root.isMissingNode()) {
            throw new ConfigException(sourceName, "", "file is empty", "write a JSON object, see docs/config.md");
        }
        return ConfigBinder.bind(root, sourceName);
    }
}
