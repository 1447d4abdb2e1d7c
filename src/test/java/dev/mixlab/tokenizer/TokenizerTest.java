package dev.mixlab.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.data.DataException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    @TempDir
    Path tmp;

    /** A few KB of Shakespeare: enough for merges to matter, small enough to be quick. */
    static String shakespeare(int chars) throws IOException {
        return Files.readString(Path.of("data/tinyshakespeare.txt")).substring(0, chars);
    }

    /** Random text mixing ASCII, accents, CJK, emoji (surrogate pairs), lone surrogates, controls. */
    static String randomUnicode(Random r, int len) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < len) {
            switch (r.nextInt(8)) {
                case 0 -> sb.append((char) (' ' + r.nextInt(95)));
                case 1 -> sb.append(' ');
                case 2 -> sb.appendCodePoint(0xC0 + r.nextInt(0x180));          // Latin with accents
                case 3 -> sb.appendCodePoint(0x4E00 + r.nextInt(0x5000));        // CJK
                case 4 -> sb.appendCodePoint(0x1F600 + r.nextInt(0x50));         // emoji
                case 5 -> sb.append((char) (0xD800 + r.nextInt(0x800)));         // lone surrogate, either half
                case 6 -> sb.append("\n\t\r\u0000\u00a0\u2028".charAt(r.nextInt(6)));
                default -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000));   // any supplementary
            }
        }
        return sb.toString();
    }

    @Test
    void utf8MatchesTheJdkOnWellFormedTextAndKeepsLoneSurrogates() {
        String s = "héllo wörld 日本 😀 \u0000";
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), Utf8.encode(s));
        String lone = "a\uD800b\uDC00c\uDBFF";
        assertEquals(lone, Utf8.decode(Utf8.encode(lone)));
        // bytes that are not UTF-8 decode to U+FFFD, never throw
        assertEquals("\uFFFDa\uFFFD(", Utf8.decode(new byte[] {(byte) 0xFF, 'a', (byte) 0xC3, '('}));
        assertEquals("\uFFFD\uFFFD", Utf8.decode(new byte[] {(byte) 0xC0, (byte) 0x80})); // overlong
        assertEquals("\uFFFD\uFFFD", Utf8.decode(new byte[] {(byte) 0xE2, (byte) 0x82})); // cut short
    }

    @Test
    void byteTokenizerRoundTripsAnyString() {
        Random r = new Random(1);
        for (int i = 0; i < 200; i++) {
            String s = randomUnicode(r, r.nextInt(40));
            int[] ids = ByteTokenizer.INSTANCE.encode(s);
            assertTrue(Arrays.stream(ids).allMatch(id -> id >= 0 && id < 256));
            assertEquals(s, ByteTokenizer.INSTANCE.decode(ids));
        }
        assertEquals("a\uFFFDb", ByteTokenizer.INSTANCE.decode(new int[] {'a', 999, 'b'}));
    }

    @Test
    void charTokenizerVocabIsTheSortedCodePointsAndRoundTrips() {
        Random r = new Random(2);
        String s = randomUnicode(r, 2000);
        int[] cps = s.codePoints().distinct().sorted().toArray();
        CharTokenizer t = new CharTokenizer(cps);
        assertEquals(cps.length, t.vocabSize());
        assertEquals(s, t.decode(t.encode(s)));
        assertEquals(0, t.encode(new String(Character.toChars(cps[0])))[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CharTokenizer(new int[] {'a', 'b'}).encode("abc"));
        assertTrue(e.getMessage().contains("U+0063 'c'"), e.getMessage());
    }

    @Test
    void preSplitKeepsOneLeadingSpaceWithTheWord() {
        List<String> chunks = new ArrayList<>();
        String s = "Hello world\n\n  foo, bar123!! 😀x";
        PreSplit.split(s, chunks::add);
        assertEquals(List.of("Hello", " world", "\n\n ", " foo", ",", " bar", "123", "!!", " 😀", "x"), chunks);
        assertEquals(s, String.join("", chunks));
        Random r = new Random(3);
        for (int i = 0; i < 100; i++) {
            String u = randomUnicode(r, 50);
            StringBuilder back = new StringBuilder();
            PreSplit.split(u, back::append);
            assertEquals(u, back.toString());
        }
    }

    @Test
    void bpeTiesGoToTheLowestPair() {
        BpeTrainer t = new BpeTrainer();
        t.add("abcd");
        BpeTokenizer tok = t.train(257, Progress.NONE);
        assertArrayEquals(new int[] {'a', 'b'}, tok.merges()[0]); // (a,b), (b,c), (c,d) all occur once
        assertArrayEquals(new int[] {256, 'c', 'd'}, tok.encode("abcd"));
    }

    @Test
    void bpeCountsPairsOverChunksAndMergesOverlapsLeftToRight() {
        BpeTrainer t = new BpeTrainer();
        t.add("aaaa xy xy xy");
        BpeTokenizer tok = t.train(260, Progress.NONE);
        // " x"/"y" chunks: (' ', x) 3 times, (x, y) 3 times; (a, a) counts 3 in "aaaa" → tie at 3: (32, 120) is lowest
        assertArrayEquals(new int[] {' ', 'x'}, tok.merges()[0]);
        assertArrayEquals(new int[] {'a', 'a'}, tok.merges()[1]);  // 3, tied with (256, y): 97 < 256
        assertArrayEquals(new int[] {256, 'y'}, tok.merges()[2]);
        assertArrayEquals(new int[] {257, 257}, tok.merges()[3]);  // "aaaa" became (aa)(aa)
        assertArrayEquals(new int[] {259}, tok.encode("aaaa"));
        assertArrayEquals(new int[] {257, 'a'}, tok.encode("aaa"));
        assertEquals("aaaa xy xy xy", tok.decode(tok.encode("aaaa xy xy xy")));
    }

    @Test
    void bpeIsDeterministicReducesTokensAndRoundTrips() throws IOException {
        String text = shakespeare(20_000);
        String[] docs = text.split("\n\n");
        BpeTrainer a = new BpeTrainer();
        for (String d : docs) {
            a.add(d);
        }
        BpeTrainer b = new BpeTrainer(); // same documents, opposite order
        for (int i = docs.length - 1; i >= 0; i--) {
            b.add(docs[i]);
        }
        BpeTokenizer ta = a.train(400, Progress.NONE);
        BpeTokenizer tb = b.train(400, Progress.NONE);
        assertEquals(400, ta.vocabSize());
        assertEquals(ta.toJson(), tb.toJson());

        int[] ids = ta.encode(text);
        assertTrue(ids.length < Utf8.encode(text).length * 0.7, ids.length + " tokens for " + text.length() + " bytes");
        assertEquals(text, ta.decode(ids));
        Random r = new Random(4);
        for (int i = 0; i < 100; i++) {
            String s = randomUnicode(r, r.nextInt(60));
            assertEquals(s, ta.decode(ta.encode(s)));
        }
        // each token's bytes are its merge's two tokens' bytes, and ids only grow by merges
        for (int k = 0; k < ta.merges().length; k++) {
            int[] m = ta.merges()[k];
            byte[] joined = new byte[ta.bytes(m[0]).length + ta.bytes(m[1]).length];
            System.arraycopy(ta.bytes(m[0]), 0, joined, 0, ta.bytes(m[0]).length);
            System.arraycopy(ta.bytes(m[1]), 0, joined, ta.bytes(m[0]).length, ta.bytes(m[1]).length);
            assertArrayEquals(joined, ta.bytes(256 + k));
        }
    }

    @Test
    void bpeStopsWhenNothingIsLeftToMerge() {
        BpeTrainer t = new BpeTrainer();
        t.add("ab");
        assertEquals(257, t.train(1000, Progress.NONE).vocabSize());
    }

    @Test
    void savedTokenizersLoadBackIdentical() throws IOException {
        BpeTrainer bt = new BpeTrainer();
        bt.add(shakespeare(5_000));
        List<Tokenizer> all = List.of(ByteTokenizer.INSTANCE, new CharTokenizer(new int[] {10, 32, 97, 0x1F600}),
                bt.train(300, Progress.NONE));
        for (Tokenizer t : all) {
            Path f = tmp.resolve(t.kind() + ".json");
            Tokenizers.save(t, f);
            Tokenizer back = Tokenizers.load(f);
            assertEquals(t.kind(), back.kind());
            assertEquals(t.vocabSize(), back.vocabSize());
            assertEquals(t.toJson(), back.toJson());
        }
    }

    @Test
    void brokenTokenizerFilesAreOneLineErrors() throws IOException {
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, "{\"format\": \"mixlab-tokenizer\", \"version\": 1, \"kind\": \"bpe\", \"vocab_size\": 257,"
                + " \"pre_split\": \"mixlab-words-v1\", \"merges\": [[300, 1]]}");
        DataException e = assertThrows(DataException.class, () -> Tokenizers.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("merge 0"), e.getMessage());
        Files.writeString(f, "{\"hello\": 1}");
        e = assertThrows(DataException.class, () -> Tokenizers.load(f));
        assertTrue(e.getMessage().contains("not a mixlab tokenizer"), e.getMessage());
        assertThrows(DataException.class, () -> Tokenizers.load(tmp.resolve("missing.json")));
    }
}
