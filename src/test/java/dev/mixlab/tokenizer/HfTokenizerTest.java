package dev.mixlab.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** HfTokenizer on hand-made tokenizer.json files: byte-level (GPT-2 and Llama-3 style) and SentencePiece-style. */
class HfTokenizerTest {
    static final ObjectMapper M = new ObjectMapper();

    /** Byte-level BPE: byte b has id b; merges get 256, 257, ...; one added token after them. */
    static ObjectNode byteLevel(String[] merges, ObjectNode preTokenizer) {
        ObjectNode root = M.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(HfTokenizer.byteChar(b)), b);
        ArrayNode m = model.putArray("merges");
        int id = 256;
        for (String s : merges) {
            m.add(s);
            vocab.put(s.replace(" ", ""), id++);
        }
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", id).put("content", "<|endoftext|>").put("special", true);
        root.set("pre_tokenizer", preTokenizer);
        root.putObject("decoder").put("type", "ByteLevel");
        return root;
    }

    static ObjectNode gpt2Pre() {
        ObjectNode p = M.createObjectNode();
        p.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        return p;
    }

    @Test
    void byteLevelMergesByRankAndRoundTrips() {
        HfTokenizer t = HfTokenizer.parse(byteLevel(new String[] {"Ġ t", "h e", "Ġt he", "l l"}, gpt2Pre()).toString(), "gpt2");
        assertEquals(261, t.vocabSize());
        assertArrayEquals(new int[] {258}, t.encode(" the"));
        assertArrayEquals(new int[] {257, 259, 'o'}, t.encode("hello"));
        assertArrayEquals(new int[] {'t', 257, 260, 258}, t.encode("the<|endoftext|> the"));
        for (String s : new String[] {"the cat's 12 dogs\n\n  café 日本 🙂!", "<|endoftext|>x", "  ", ""}) {
            assertEquals(s, t.decode(t.encode(s)), s);
        }
    }

    @Test
    void llama3SplitRegexRunsBeforeByteLevel() {
        ObjectNode seq = M.createObjectNode().put("type", "Sequence");
        ObjectNode split = seq.putArray("pretokenizers").addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        ((ArrayNode) seq.get("pretokenizers")).addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        HfTokenizer t = HfTokenizer.parse(byteLevel(new String[] {"3 4"}, seq).toString(), "llama3");
        // digits split in threes, so the merge "3 4" cannot join 123|456
        assertArrayEquals(new int[] {'1', '2', '3', '4', '5', '6'}, t.encode("123456"));
        assertArrayEquals(new int[] {256, '5', '6'}, t.encode("3456"));
        assertEquals("It's 1234 ok?\n", t.decode(t.encode("It's 1234 ok?\n")));
    }

    @Test
    void sentencePieceStyleWithByteFallback() {
        ObjectNode root = M.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").put("byte_fallback", true).put("unk_token", "<unk>").put("fuse_unk", true);
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("<unk>", 0).put("<s>", 1).put("</s>", 2);
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), 3 + b);
        vocab.put("\u2581", 259).put("h", 260).put("i", 261).put("\u2581h", 262).put("\u2581hi", 263);
        model.putArray("merges").add("\u2581 h").add("\u2581h i");
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        norm.putArray("normalizers").addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode rep = ((ArrayNode) norm.get("normalizers")).addObject().put("type", "Replace").put("content", "\u2581");
        rep.putObject("pattern").put("String", " ");
        root.putNull("pre_tokenizer");
        ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ds.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "\u2581");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        HfTokenizer t = HfTokenizer.parse(root.toString(), "sp");
        assertArrayEquals(new int[] {263, 263, 3 + '!'}, t.encode("hi hi!"));
        assertEquals("hi hi!", t.decode(new int[] {263, 263, 3 + '!'}));
        assertEquals("hi é", t.decode(t.encode("hi é")));
    }

    @Test
    void unsupportedModelIsRefusedNamingTheField() {
        ObjectNode root = M.createObjectNode();
        root.putObject("model").put("type", "WordPiece");
        var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.parse(root.toString(), "wp.json"));
        assertTrue(e.getMessage().contains("model.type") && e.getMessage().contains("BPE"), e.getMessage());
    }
}
