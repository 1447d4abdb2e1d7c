package dev.mixlab.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face {@code tokenizer.json} whose model is {@code BPE}: byte-level (GPT-2, Llama 3, Qwen2:
 * {@code ByteLevel} pre-tokenizer, optionally after a {@code Split} regex) or SentencePiece-style
 * ({@code ▁} for spaces via {@code Prepend}/{@code Replace} normalizers or a {@code Metaspace}
 * pre-tokenizer, with byte fallback, as Llama 2). Added tokens are matched in the raw text first.
 * {@link #encode} adds no BOS/EOS (as {@code add_special_tokens=False}). Unsupported components
 * are refused when loading, naming the component.
 */
public final class HfTokenizer implements Tokenizer {
    /** GPT-2's pre-tokenizer split, which the {@code ByteLevel} pre-tokenizer applies with {@code use_regex}. */
    static final String GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final char[] BYTE_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_BYTE = new HashMap<>();

    static {
        // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest for 256, 257, ...
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_CHAR[b] = printable ? (char) b : (char) (256 + n++);
            CHAR_BYTE.put(BYTE_CHAR[b], b);
        }
    }

    private final String json;
    private final Map<String, Integer> vocab = new HashMap<>();
    private final Map<Integer, String> idToToken = new HashMap<>();
    private final Map<String, Integer> mergeRank = new HashMap<>();
    private final Map<String, Integer> added = new HashMap<>();
    private final List<String> addedLongestFirst;
    private final Pattern addedPattern;
    private final boolean byteFallback, ignoreMerges, fuseUnk;
    private final Integer unkId;
    private final int vocabSize;
    private final List<UnaryOperator<String>> normalizers = new ArrayList<>();
    private final List<PreTokenizer> preTokenizers = new ArrayList<>();
    private final List<JsonNode> decoders = new ArrayList<>();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** One pre-tokenizer step: a piece (and whether it is the text's first) into smaller pieces. */
    private interface PreTokenizer {
        List<String> split(String piece, boolean first);
    }

    private HfTokenizer(String json, JsonNode root, String where) {
        this.json = json;
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) throw refuse(where, "model.type", "\"" + type + "\"", "BPE");
        for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.get(k);
            if (v != null && !v.isNull() && !v.asText().isEmpty()) throw refuse(where, "model." + k, v.toString(), "null");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) throw refuse(where, "model.dropout", dropout.toString(), "null");
        model.path("vocab").properties().forEach(e -> {
            vocab.put(e.getKey(), e.getValue().asInt());
            idToToken.put(e.getValue().asInt(), e.getKey());
        });
        JsonNode merges = model.path("merges");
        for (int i = 0; i < merges.size(); i++) {
            JsonNode m = merges.get(i);
            String a, b;
            if (m.isArray()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp < 0) throw new IllegalArgumentException(where + ": model.merges[" + i + "] \"" + s + "\" is not \"a b\"");
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            }
            mergeRank.putIfAbsent(key(a, b), i);
        }
        byteFallback = model.path("byte_fallback").asBoolean(false);
        ignoreMerges = model.path("ignore_merges").asBoolean(false);
        fuseUnk = model.path("fuse_unk").asBoolean(false);
        JsonNode unk = model.get("unk_token");
        unkId = unk == null || unk.isNull() ? null : vocab.get(unk.asText());
        for (JsonNode t : root.path("added_tokens")) {
            added.put(t.path("content").asText(), t.path("id").asInt());
            idToToken.put(t.path("id").asInt(), t.path("content").asText());
        }
        addedLongestFirst = added.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()
                .thenComparing(Comparator.naturalOrder())).toList();
        addedPattern = addedLongestFirst.isEmpty() ? null
                : Pattern.compile(String.join("|", addedLongestFirst.stream().map(Pattern::quote).toList()));
        int max = -1;
        for (int id : idToToken.keySet()) max = Math.max(max, id);
        vocabSize = max + 1;
        normalizer(root.get("normalizer"), where);
        preTokenizer(root.get("pre_tokenizer"), where);
        decoder(root.get("decoder"), where);
    }

    /** Loads {@code tokenizer.json}. @throws IllegalArgumentException for an unsupported tokenizer */
    public static HfTokenizer load(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses tokenizer.json text; {@code where} names it in errors. */
    public static HfTokenizer parse(String json, String where) {
        try {
            return new HfTokenizer(json, new ObjectMapper().readTree(json), where);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    /** {@code hf_bpe}. */
    public String kind() {
        return "hf_bpe";
    }

    /** The tokenizer.json text this was loaded from. */
    public String toJson() {
        return json;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    // ---- components ----

    private void normalizer(JsonNode n, String where) {
        if (n == null || n.isNull()) return;
        String t = n.path("type").asText();
        switch (t) {
            case "Sequence" -> n.path("normalizers").forEach(x -> normalizer(x, where));
            case "Prepend" -> {
                String p = n.path("prepend").asText();
                normalizers.add(s -> s.isEmpty() ? s : p + s);
            }
            case "Replace" -> {
                UnaryOperator<String> r = replacer(n, where, "normalizer");
                normalizers.add(r);
            }
            case "NFC" -> normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFC));
            case "NFKC" -> normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKC));
            case "NFD" -> normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFD));
            case "NFKD" -> normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKD));
            case "Lowercase" -> normalizers.add(s -> s.toLowerCase(java.util.Locale.ROOT));
            default -> throw refuse(where, "normalizer.type", "\"" + t + "\"", "Sequence, Prepend, Replace, NFC, NFKC, NFD, NFKD, Lowercase");
        }
    }

    private static UnaryOperator<String> replacer(JsonNode n, String where, String what) {
        JsonNode pat = n.path("pattern");
        String content = n.path("content").asText();
        if (pat.has("String")) {
            String s = pat.path("String").asText();
            return x -> x.replace(s, content);
        }
        if (pat.has("Regex")) {
            Pattern p = Pattern.compile(pat.path("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
            String rep = Matcher.quoteReplacement(content);
            return x -> p.matcher(x).replaceAll(rep);
        }
        throw refuse(where, what + ".pattern", pat.toString(), "{\"String\": ...} or {\"Regex\": ...}");
    }

    private void preTokenizer(JsonNode n, String where) {
        if (n == null || n.isNull()) return;
        String t = n.path("type").asText();
        switch (t) {
            case "Sequence" -> n.path("pretokenizers").forEach(x -> preTokenizer(x, where));
            case "ByteLevel" -> {
                boolean prefix = n.path("add_prefix_space").asBoolean(false);
                boolean regex = n.path("use_regex").asBoolean(true);
                Pattern p = Pattern.compile(GPT2_SPLIT, Pattern.UNICODE_CHARACTER_CLASS);
                preTokenizers.add((s, first) -> {
                    if (prefix && !s.startsWith(" ")) s = " " + s;
                    List<String> parts = regex ? isolate(p, s) : List.of(s);
                    List<String> out = new ArrayList<>(parts.size());
                    for (String x : parts) out.add(toByteChars(x));
                    return out;
                });
            }
            case "Split" -> {
                JsonNode pat = n.path("pattern");
                Pattern p = pat.has("Regex") ? Pattern.compile(pat.path("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS)
                        : Pattern.compile(Pattern.quote(pat.path("String").asText()));
                if (n.path("invert").asBoolean(false)) throw refuse(where, "pre_tokenizer.invert", "true", "false");
                String behavior = n.path("behavior").asText("Isolated");
                switch (behavior) {
                    case "Isolated" -> preTokenizers.add((s, first) -> isolate(p, s));
                    case "Removed" -> preTokenizers.add((s, first) -> removed(p, s));
                    default -> throw refuse(where, "pre_tokenizer.behavior", "\"" + behavior + "\"", "Isolated, Removed");
                }
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                        : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                boolean split = n.path("split").asBoolean(true);
                preTokenizers.add((s, first) -> {
                    s = s.replace(" ", rep);
                    boolean prepend = scheme.equals("always") || (scheme.equals("first") && first);
                    if (prepend && !s.startsWith(rep)) s = rep + s;
                    if (!split) return List.of(s);
                    List<String> out = new ArrayList<>();
                    int start = 0;
                    for (int i = s.indexOf(rep, 1); i >= 0; i = s.indexOf(rep, i + 1)) {
                        out.add(s.substring(start, i));
                        start = i;
                    }
                    if (start < s.length()) out.add(s.substring(start));
                    return out;
                });
            }
            case "Digits" -> {
                Pattern p = Pattern.compile(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+");
                preTokenizers.add((s, first) -> isolate(p, s));
            }
            default -> throw refuse(where, "pre_tokenizer.type", "\"" + t + "\"", "Sequence, ByteLevel, Split, Metaspace, Digits");
        }
    }

    private void decoder(JsonNode n, String where) {
        if (n == null || n.isNull()) return;
        String t = n.path("type").asText();
        switch (t) {
            case "Sequence" -> n.path("decoders").forEach(x -> decoder(x, where));
            case "ByteLevel", "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace" -> {
                if (t.equals("Replace")) replacer(n, where, "decoder");
                decoders.add(n);
            }
            default -> throw refuse(where, "decoder.type", "\"" + t + "\"", "Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace");
        }
    }

    private static IllegalArgumentException refuse(String where, String field, String got, String supported) {
        return new IllegalArgumentException(where + ": " + field + " is " + got + ", which mixlab's HfTokenizer does not"
                + " support (supported: " + supported + ")");
    }

    /** Matches and the text between them, in order, without empties. */
    private static List<String> isolate(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) out.add(s.substring(last, m.start()));
            if (m.end() > m.start()) out.add(m.group());
            last = m.end();
        }
        if (last < s.length()) out.add(s.substring(last));
        return out;
    }

    private static List<String> removed(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        for (String x : p.split(s)) if (!x.isEmpty()) out.add(x);
        return out;
    }

    /** The character that stands for byte {@code b} in byte-level vocabularies. */
    static char byteChar(int b) {
        return BYTE_CHAR[b];
    }

    static String toByteChars(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        char[] c = new char[b.length];
        for (int i = 0; i < b.length; i++) c[i] = BYTE_CHAR[b[i] & 0xFF];
        return new String(c);
    }

    private static String key(String a, String b) {
        return a.length() + ":" + a + b;
    }

    // ---- encode ----

    @Override
    public int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        boolean first = true;
        int last = 0;
        if (addedPattern != null) {
            Matcher m = addedPattern.matcher(text);
            while (m.find()) {
                if (m.start() > last) encodeSection(text.substring(last, m.start()), first, ids);
                ids.add(added.get(m.group()));
                first = false;
                last = m.end();
            }
        }
        if (last < text.length()) encodeSection(text.substring(last), first, ids);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private void encodeSection(String s, boolean first, List<Integer> ids) {
        for (UnaryOperator<String> n : normalizers) s = n.apply(s);
        List<String> pieces = List.of(s);
        for (PreTokenizer p : preTokenizers) {
            List<String> next = new ArrayList<>();
            for (int i = 0; i < pieces.size(); i++) next.addAll(p.split(pieces.get(i), first && i == 0));
            pieces = next;
        }
        for (String piece : pieces) {
            if (piece.isEmpty()) continue;
            for (int id : cache.computeIfAbsent(piece, this::bpe)) ids.add(id);
        }
    }

    /** Merges by rank (lowest first, leftmost among equals), then maps symbols to ids. */
    private int[] bpe(String piece) {
        if (ignoreMerges && vocab.containsKey(piece)) return new int[] {vocab.get(piece)};
        List<String> sym = new ArrayList<>();
        piece.codePoints().forEach(cp -> sym.add(new String(Character.toChars(cp))));
        while (sym.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = mergeRank.get(key(sym.get(i), sym.get(i + 1)));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            sym.set(best, sym.get(best) + sym.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        boolean lastUnk = false;
        for (String s : sym) {
            Integer id = vocab.get(s);
            if (id != null) {
                out.add(id);
                lastUnk = false;
            } else if (byteFallback && allBytesKnown(s)) {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) out.add(vocab.get(byteToken(b)));
                lastUnk = false;
            } else if (unkId != null) {
                if (!(fuseUnk && lastUnk)) out.add(unkId);
                lastUnk = true;
            } else {
                throw new IllegalArgumentException("cannot encode \"" + s + "\": not in the vocabulary and no unk_token");
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private boolean allBytesKnown(String s) {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) if (!vocab.containsKey(byteToken(b))) return false;
        return true;
    }

    private static String byteToken(byte b) {
        return String.format("<0x%02X>", b & 0xFF);
    }

    // ---- bytes per token (for bits per byte) ----

    /**
     * What token {@code id} contributes to the decoded text, in UTF-8 bytes, as three facts:
     * {@code [base bytes, 1 if it starts with a word-boundary space (SentencePiece ▁), 1 if it is a
     * special/added or unknown token that decodes to nothing]}. Byte-level BPE tokens count one byte
     * per symbol; byte-fallback tokens {@code <0xNN>} count one.
     */
    public int[] byteFacts(int id) {
        String tok = idToToken.get(id);
        if (tok == null || (added.containsKey(tok) && !vocab.containsKey(tok)) || (unkId != null && id == unkId)) {
            return new int[] {0, 0, 1};
        }
        if (added.containsKey(tok)) return new int[] {0, 0, 1};
        if (tok.matches("<0x[0-9A-Fa-f]{2}>")) return new int[] {1, 0, 0};
        boolean byteLevel = decoders.stream().anyMatch(d -> d.path("type").asText().equals("ByteLevel"));
        if (byteLevel) {
            int n = 0;
            for (char c : tok.toCharArray()) n += CHAR_BYTE.containsKey(c) ? 1 : String.valueOf(c).getBytes(StandardCharsets.UTF_8).length;
            return new int[] {n, 0, 0};
        }
        boolean lead = tok.startsWith("\u2581");
        String body = tok.replace('\u2581', ' ');
        if (lead) body = body.substring(1);
        return new int[] {body.getBytes(StandardCharsets.UTF_8).length, lead ? 1 : 0, 0};
    }

    // ---- decode ----

    @Override
    public String decode(int[] ids) {
        StringBuilder out = new StringBuilder();
        List<String> run = new ArrayList<>();
        for (int id : ids) {
            String tok = idToToken.get(id);
            if (tok == null) tok = "\uFFFD";
            if (added.containsKey(tok) && !vocab.containsKey(tok)) {
                out.append(decodeRun(run, out.isEmpty()));
                run.clear();
                out.append(tok);
            } else {
                run.add(tok);
            }
        }
        return out.append(decodeRun(run, out.isEmpty())).toString();
    }

    /** The decoder chain over a run of model tokens (as the HF decoders, token list to token list). */
    private String decodeRun(List<String> tokens, boolean atStart) {
        if (tokens.isEmpty()) return "";
        List<String> t = new ArrayList<>(tokens);
        for (JsonNode d : decoders) {
            switch (d.path("type").asText()) {
                case "ByteLevel" -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    for (String s : t) {
                        for (char c : s.toCharArray()) {
                            Integer v = CHAR_BYTE.get(c);
                            if (v != null) b.write(v);
                            else b.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                        }
                    }
                    t = new ArrayList<>(List.of(utf8(b.toByteArray())));
                }
                case "Replace" -> {
                    UnaryOperator<String> r = replacer(d, "decoder", "decoder");
                    t.replaceAll(r);
                }
                case "ByteFallback" -> {
                    List<String> next = new ArrayList<>();
                    ByteArrayOutputStream pending = new ByteArrayOutputStream();
                    for (String s : t) {
                        if (s.length() == 6 && s.startsWith("<0x") && s.endsWith(">")) {
                            try {
                                pending.write(Integer.parseInt(s.substring(3, 5), 16));
                                continue;
                            } catch (NumberFormatException e) {
                                // not a byte token
                            }
                        }
                        if (pending.size() > 0) {
                            next.add(utf8(pending.toByteArray()));
                            pending.reset();
                        }
                        next.add(s);
                    }
                    if (pending.size() > 0) next.add(utf8(pending.toByteArray()));
                    t = next;
                }
                case "Fuse" -> t = new ArrayList<>(List.of(String.join("", t)));
                case "Strip" -> {
                    String c = d.path("content").asText(" ");
                    int start = d.path("start").asInt(0), stop = d.path("stop").asInt(0);
                    for (int i = 0; i < t.size(); i++) {
                        String s = t.get(i);
                        for (int k = 0; k < start && s.startsWith(c) && atStart; k++) s = s.substring(c.length());
                        for (int k = 0; k < stop && s.endsWith(c); k++) s = s.substring(0, s.length() - c.length());
                        t.set(i, s);
                    }
                }
                case "Metaspace" -> {
                    String rep = d.path("replacement").asText("\u2581");
                    String scheme = d.has("prepend_scheme") ? d.path("prepend_scheme").asText()
                            : d.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                    for (int i = 0; i < t.size(); i++) {
                        String s = t.get(i).replace(rep, " ");
                        if (i == 0 && atStart && !scheme.equals("never") && s.startsWith(" ")) s = s.substring(1);
                        t.set(i, s);
                    }
                }
                default -> throw new IllegalStateException("checked when loading");
            }
        }
        return String.join("", t);
    }

    /** UTF-8 decoding with U+FFFD for malformed input. */
    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
