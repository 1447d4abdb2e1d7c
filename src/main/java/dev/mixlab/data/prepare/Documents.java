package dev.mixlab.data.prepare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.data.DataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Reads the documents of one input file: a {@code .jsonl} file gives one document per non-blank
 * line (the string in field {@code jsonlField} of the line's JSON object); any other file is one
 * document, its whole text. Files must be UTF-8. Empty documents are skipped.
 */
final class Documents {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Documents() {}

    /** What a pass over a file found. */
    record Read(String sha256, long bytes, int documents) {}

    static boolean isJsonl(Path file) {
        return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl");
    }

    /**
     * Reads {@code file} and hands each document to {@code sink}.
     *
     * @throws DataException (one line with file:line) for bad UTF-8, bad JSON or a missing field
     */
    static Read read(Path file, String jsonlField, Consumer<String> sink) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException | OutOfMemoryError e) {
            throw new DataException(file.toString(), "cannot read the file (" + e + ")",
                    "check that it exists and is readable (each input is read whole; split very large files)");
        }
        String text = utf8(file, bytes);
        int docs = 0;
        if (isJsonl(file)) {
            int line = 0;
            int at = 0;
            while (at < text.length()) {
                int nl = text.indexOf('\n', at);
                int end = nl < 0 ? text.length() : nl;
                line++;
                String s = text.substring(at, end);
                at = end + 1;
                if (s.isBlank()) {
                    continue;
                }
                String doc = field(file, line, s, jsonlField);
                if (!doc.isEmpty()) {
                    sink.accept(doc);
                    docs++;
                }
            }
        } else if (!text.isEmpty()) {
            sink.accept(text);
            docs = 1;
        }
        return new Read(sha256(bytes), bytes.length, docs);
    }

    private static String field(Path file, int line, String s, String name) {
        String where = file + ":" + line;
        JsonNode node;
        try {
            node = JSON.readTree(s);
        } catch (JsonProcessingException e) {
            throw new DataException(where, "not valid JSON (" + e.getOriginalMessage() + ")",
                    "each line of a .jsonl file must be one JSON object, e.g. {\"" + name + "\": \"...\"}");
        }
        if (node == null || !node.isObject()) {
            throw new DataException(where, "a JSON " + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT))
                    + ", not an object", "each line of a .jsonl file must be one JSON object, e.g. {\""
                    + name + "\": \"...\"}");
        }
        JsonNode v = node.get(name);
        if (v == null) {
            StringBuilder fields = new StringBuilder();
            node.fieldNames().forEachRemaining(f -> fields.append(fields.isEmpty() ? "" : ", ").append(f));
            throw new DataException(where, "no \"" + name + "\" field (the object has: "
                    + (fields.isEmpty() ? "no fields" : fields) + ")",
                    "pass --jsonl-field NAME to read the text from another field, or fix the line");
        }
        if (!v.isTextual()) {
            throw new DataException(where, "field \"" + name + "\" is a "
                    + v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT) + ", not a string",
                    "the text must be a JSON string; pass --jsonl-field NAME for another field");
        }
        return v.textValue();
    }

    private static String utf8(Path file, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            int pos = in.position();
            int line = 1;
            for (int i = 0; i < pos; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new DataException(file + ":" + line, "not UTF-8 (bad byte 0x"
                    + String.format("%02X", bytes[pos] & 0xFF) + " at byte offset " + pos + ")",
                    "convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8");
        }
        dec.flush(out);
        out.flip();
        return out.toString();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
