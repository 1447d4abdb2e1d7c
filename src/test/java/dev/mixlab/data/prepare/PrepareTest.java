package dev.mixlab.data.prepare;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.data.DataException;
import dev.mixlab.data.DataSources;
import dev.mixlab.data.PreparedData;
import dev.mixlab.data.ShardTokens;
import dev.mixlab.data.Splits;
import dev.mixlab.data.TokenData;
import dev.mixlab.tokenizer.Progress;
import dev.mixlab.tokenizer.Tokenizer;
import dev.mixlab.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    @TempDir
    Path tmp;

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    Prepare.Result prepare(List<Path> inputs, String dir, String tokenizer, double valFraction, String field,
                           long shardTokens) {
        return Prepare.run(new Prepare.Options(inputs, tmp.resolve(dir), tokenizer, valFraction, field, shardTokens,
                null, false), QUIET, Progress.NONE);
    }


    static int[] ids(TokenData d) {
        int[] ids = new int[(int) d.size()];
        d.copy(0, ids, 0, ids.length);
        return ids;
    }

    Path jsonl(String name, String... lines) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    @Test
    void jsonlDocumentsSplitByDocumentAndTheManifestSaysSo() throws Exception {
        Path in = jsonl("docs.jsonl",
                "{\"id\": 1, \"body\": \"First document. 😀\"}",
                "",
                "{\"id\": 2, \"body\": \"Second one\\nwith two lines\"}",
                "{\"id\": 3, \"body\": \"\"}",
                "{\"id\": 4, \"body\": \"third\"}",
                "{\"id\": 5, \"body\": \"fourth and last\"}");
        Prepare.Result r = prepare(List.of(in), "out", "bpe:270", 0.25, "body", 1000);
        assertEquals(4, r.documents()); // the empty one is skipped
        assertEquals(1, r.valDocuments());
        Tokenizer tok = Tokenizers.load(tmp.resolve("out/tokenizer.json"));
        assertEquals(270, tok.vocabSize());

        // shards: readable by DataSources (directory → train) and Splits (directory → train + val)
        TokenData train = DataSources.open(tmp.resolve("out").toString(), 270);
        assertEquals("First document. 😀Second one\nwith two linesthird", tok.decode(ids(train)));
        Splits s = Splits.trainVal(tmp.resolve("out").toString(), null, 270);
        assertEquals("fourth and last", tok.decode(ids(s.val())));
        assertEquals(train.size(), s.train().size());

        JsonNode m = new ObjectMapper().readTree(tmp.resolve("out/manifest.json").toFile());
        assertEquals(PreparedData.FORMAT, m.get("format").asText());
        assertEquals("bpe", m.at("/tokenizer/kind").asText());
        assertEquals("tokenizer.json", m.at("/tokenizer/file").asText());
        assertEquals(270, m.get("vocab_size").asInt());
        assertEquals(0.25, m.get("val_fraction").asDouble());
        assertEquals("body", m.get("jsonl_field").asText());
        assertEquals("0.1.0", m.get("mixlab_version").asText());
        assertFalse(m.get("created").asText().isEmpty());
        assertEquals("out_train_000000.bin", m.at("/splits/train/files/0").asText());
        assertEquals(train.size(), m.at("/splits/train/tokens").asLong());
        assertEquals(3, m.at("/splits/train/documents").asInt());
        assertEquals(s.val().size(), m.at("/splits/val/tokens").asLong());
        assertEquals(in.toString(), m.at("/sources/0/path").asText());
        assertEquals(Files.size(in), m.at("/sources/0/bytes").asLong());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(in))),
                m.at("/sources/0/sha256").asText());
    }

    @Test
    void aBadJsonlLineNamesFileLineAndFix() throws IOException {
        Path in = jsonl("bad.jsonl", "{\"text\": \"fine\"}", "{\"text\": \"fine\"}", "{\"text\": oops}");
        DataException e = assertThrows(DataException.class, () -> prepare(List.of(in), "o1", "byte", 0.1, "text", 100));
        assertTrue(e.getMessage().startsWith(in + ":3: not valid JSON"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());

        Path noField = jsonl("nofield.jsonl", "{\"text\": \"fine\"}", "{\"body\": \"x\", \"id\": 2}");
        e = assertThrows(DataException.class, () -> prepare(List.of(noField), "o2", "byte", 0.1, "text", 100));
        assertTrue(e.getMessage().startsWith(noField + ":2: no \"text\" field (the object has: body, id)"), e.getMessage());
        assertTrue(e.getMessage().contains("--jsonl-field"), e.getMessage());

        Path notObject = jsonl("array.jsonl", "[1, 2]");
        e = assertThrows(DataException.class, () -> prepare(List.of(notObject), "o3", "byte", 0.1, "text", 100));
        assertTrue(e.getMessage().contains(":1: a JSON array, not an object"), e.getMessage());
    }

    @Test
    void oneTextFileSplitsByTokensAndShardsRollOver() throws IOException {
        Path in = tmp.resolve("a.txt");
        String text = "abcdefghij".repeat(10); // 100 bytes
        Files.writeString(in, text);
        Prepare.Result r = prepare(List.of(in), "bytes", "byte", 0.1, "text", 40);
        assertEquals(90, r.data().trainTokens());
        assertEquals(10, r.data().valTokens());
        assertEquals(List.of("bytes_train_000000.bin", "bytes_train_000001.bin", "bytes_train_000002.bin"),
                r.data().trainFiles().stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(40, ShardTokens.open(r.data().trainFiles().get(1), 256).size());
        assertEquals(10, ShardTokens.open(r.data().trainFiles().get(2), 256).size());
        Splits s = Splits.trainVal(tmp.resolve("bytes").toString(), null, 256);
        assertEquals(text.substring(0, 90) + "|" + text.substring(90),
                new String(bytes(s.train())) + "|" + new String(bytes(s.val())));
    }

    static byte[] bytes(TokenData d) {
        int[] ids = ids(d);
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            b[i] = (byte) ids[i];
        }
        return b;
    }

    @Test
    void charVocabularyIsSavedAndReusedWithAClearErrorForNewCharacters() throws IOException {
        Path a = tmp.resolve("a.txt");
        Files.writeString(a, "hello world");
        Path b = tmp.resolve("b.txt");
        Files.writeString(b, "low hell");
        Prepare.Result r = prepare(List.of(a, b), "chars", "char", 0.5, "text", 1000);
        assertEquals(8, r.data().vocabSize()); // " dehlorw"
        Prepare.Result again = prepare(List.of(b), "again", tmp.resolve("chars/tokenizer.json").toString(), 0, "text",
                1000);
        assertEquals(8, again.data().vocabSize());
        assertEquals(List.of(), again.data().valFiles());
        Path c = tmp.resolve("c.txt");
        Files.writeString(c, "hello, world");
        DataException e = assertThrows(DataException.class, () -> prepare(List.of(c), "bad",
                tmp.resolve("chars/tokenizer.json").toString(), 0.1, "text", 1000));
        assertTrue(e.getMessage().startsWith(c + ": character U+002C ','"), e.getMessage());
    }

    @Test
    void refusesToOverwriteWithoutForceAndChecksVocabLimits() throws IOException {
        Path a = tmp.resolve("a.txt");
        Files.writeString(a, "some text here");
        prepare(List.of(a), "d", "byte", 0.1, "text", 1000);
        DataException e = assertThrows(DataException.class, () -> prepare(List.of(a), "d", "byte", 0.1, "text", 1000));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        Prepare.run(new Prepare.Options(List.of(a), tmp.resolve("d"), "byte", 0.1, "text", 1000, null, true), QUIET,
                Progress.NONE);
        e = assertThrows(DataException.class, () -> prepare(List.of(a), "e", "bpe:70000", 0.1, "text", 1000));
        assertTrue(e.getMessage().contains("65536"), e.getMessage());
        e = assertThrows(DataException.class, () -> prepare(List.of(a), "e", "wordpiece", 0.1, "text", 1000));
        assertTrue(e.getMessage().contains("bpe:N"), e.getMessage());
    }

    @Test
    void aSmallerModelVocabularyIsRejectedNamingTheManifest() throws IOException {
        Path a = tmp.resolve("a.txt");
        Files.writeString(a, "the cat sat on the mat, the cat sat on the hat");
        prepare(List.of(a), "p", "bpe:260", 0.1, "text", 1000);
        DataException e = assertThrows(DataException.class,
                () -> Splits.trainVal(tmp.resolve("p").toString(), null, 256));
        assertTrue(e.getMessage().startsWith(tmp.resolve("p/manifest.json") + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("\"vocab_size\": 260"), e.getMessage());
    }
}
