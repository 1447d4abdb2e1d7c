package dev.mixlab.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.data.DataException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;

/** Reads and writes tokenizer.json. */
public final class Tokenizers {
    /** Value of the {@code format} field. */
    public static final String FORMAT = "mixlab-tokenizer";
    /** Value of the {@code version} field. */
    public static final int VERSION = 1;

    private Tokenizers() {}

    static String header(String kind, int vocabSize) {
        return "{\n  \"format\": \"" + FORMAT + "\",\n  \"version\": " + VERSION + ",\n  \"kind\": \""
                + kind + "\",\n  \"vocab_size\": " + vocabSize;
    }

    /** Writes {@code t} as tokenizer.json (through a temporary file, so never half written). */
    public static void save(Tokenizer t, Path file) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, t.toJson(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new DataException(file.toString(), "cannot write the tokenizer (" + e + ")",
                    "check that the directory is writable");
        }
    }

    /**
     * Loads a tokenizer.json written by {@link #save}; {@code file} may also be a prepared data
     * directory, whose tokenizer.json is read.
     *
     * @throws DataException (one line) if the file is missing, not a tokenizer or inconsistent
     */
    public static Tokenizer load(Path file) {
        if (Files.isDirectory(file)) {
            file = file.resolve("tokenizer.json");
        }
        String where = file.toString();
        String fix = "give a tokenizer.json written by ./mixlab prepare (or prepare the data again)";
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            if (!Files.exists(file)) {
                throw new DataException(where, "no such file", "check the path; " + fix);
            }
            throw new DataException(where, "not valid JSON (" + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.toString()) + ")", fix, e);
        }
        if (root != null && root.isObject() && root.has("model") && root.path("model").has("type")) {
            return HfTokenizer.load(file);   // a Hugging Face tokenizer.json (import-hf copies one beside the config)
        }
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText())) {
            throw new DataException(where, "not a mixlab tokenizer (no \"format\": \"" + FORMAT + "\")", fix);
        }
        if (root.path("version").asInt(-1) != VERSION) {
            throw new DataException(where, "tokenizer format version " + root.path("version")
                    + ", this mixlab reads version " + VERSION, fix);
        }
        String kind = root.path("kind").asText();
        int vocab = root.path("vocab_size").asInt(-1);
        Tokenizer t;
        try {
            t = switch (kind) {
                case "byte" -> ByteTokenizer.INSTANCE;
                case "char" -> new CharTokenizer(ints(root.path("code_points"), where, fix));
                case "bpe" -> bpe(root, where, fix);
                default -> throw new DataException(where, "unknown tokenizer kind '" + kind + "'",
                        "use byte, char or bpe; " + fix);
            };
        } catch (IllegalArgumentException e) {
            throw new DataException(where, e.getMessage(), fix);
        }
        if (t.vocabSize() != vocab) {
            throw new DataException(where, "vocab_size says " + vocab + " but the tokenizer has "
                    + t.vocabSize() + " ids", fix);
        }
        return t;
    }

    private static BpeTokenizer bpe(JsonNode root, String where, String fix) {
        String rule = root.path("pre_split").asText();
        if (!PreSplit.RULE.equals(rule)) {
            throw new DataException(where, "pre-split rule '" + rule + "' is unknown (this mixlab has "
                    + PreSplit.RULE + ")", fix);
        }
        JsonNode m = root.path("merges");
        if (!m.isArray()) {
            throw new DataException(where, "no \"merges\" array", fix);
        }
        int[][] merges = new int[m.size()][];
        for (int k = 0; k < merges.length; k++) {
            merges[k] = ints(m.get(k), where, fix);
            if (merges[k].length != 2) {
                throw new DataException(where, "merge " + k + " is not a pair of ids", fix);
            }
        }
        BpeTokenizer t = new BpeTokenizer(merges);
        JsonNode tokens = root.path("tokens");
        if (tokens.isArray()) { // the table is derived from the merges; check it agrees
            if (tokens.size() != t.vocabSize()) {
                throw new DataException(where, "\"tokens\" has " + tokens.size() + " entries, the merges give "
                        + t.vocabSize(), fix);
            }
            HexFormat hex = HexFormat.of();
            for (int id = 0; id < tokens.size(); id++) {
                if (!hex.formatHex(t.bytes(id)).equals(tokens.get(id).asText())) {
                    throw new DataException(where, "token " + id + " is \"" + tokens.get(id).asText()
                            + "\" but its merge gives \"" + hex.formatHex(t.bytes(id)) + "\"", fix);
                }
            }
        }
        return t;
    }

    private static int[] ints(JsonNode arr, String where, String fix) {
        if (!arr.isArray()) {
            throw new DataException(where, "expected an array of ids", fix);
        }
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            if (!arr.get(i).canConvertToInt()) {
                throw new DataException(where, "'" + arr.get(i) + "' is not an integer", fix);
            }
            out[i] = arr.get(i).asInt();
        }
        return out;
    }
}
