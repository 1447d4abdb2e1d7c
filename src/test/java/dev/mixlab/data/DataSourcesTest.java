package dev.mixlab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSourcesTest {
    @TempDir
    Path dir;

    /** The one-line contract: starts with the file, has a problem and a fix after ';'. */
    static DataException assertDataError(Runnable r, String where, String... mustContain) {
        DataException e = assertThrows(DataException.class, r::run);
        String m = e.getMessage();
        assertTrue(m.startsWith(where + ": "), m);
        assertTrue(!m.contains("\n") && !m.contains("\r"), m);
        assertTrue(m.indexOf("; ") > where.length(), "no fix after ';': " + m);
        for (String s : mustContain) {
            assertTrue(m.contains(s), "'" + s + "' missing from: " + m);
        }
        return e;
    }

    @Test
    void readsShard() throws IOException {
        Path f = Shards.write(dir.resolve("a.bin"), 0, 1, 65535, 7);
        TokenData t = DataSources.open(f.toString(), 65536);
        assertEquals(4, t.size());
        assertEquals(65535, t.get(2));
        assertEquals(7, t.get(3));
        assertEquals(f.toString(), t.describe());
        int[] out = new int[3];
        t.copy(1, out, 0, 3);
        assertEquals(List.of(1, 65535, 7), List.of(out[0], out[1], out[2]));
    }

    @Test
    void readsTextAsBytes() throws IOException {
        Path f = dir.resolve("t.txt");
        Files.write(f, new byte[] {'h', 'i', (byte) 0xC3, (byte) 0xA9});
        TokenData t = DataSources.open(f.toString(), 256);
        assertEquals(4, t.size());
        assertEquals('h', t.get(0));
        assertEquals(0xC3, t.get(2));
        assertEquals(0xA9, t.get(3));
    }

    @Test
    void globConcatenatesSortedByName() throws IOException {
        Shards.write(dir.resolve("s_002.bin"), 20, 21);
        Shards.write(dir.resolve("s_000.bin"), 0, 1, 2);
        Shards.write(dir.resolve("s_001.bin")); // empty shard in the middle
        Shards.write(dir.resolve("other.bin"), 99);
        TokenData t = DataSources.open(dir + "/s_*.bin", 1024);
        assertEquals(5, t.size());
        int[] all = new int[5];
        t.copy(0, all, 0, 5);
        assertEquals(List.of(0, 1, 2, 20, 21), List.of(all[0], all[1], all[2], all[3], all[4]));
        for (int i = 0; i < 5; i++) {
            assertEquals(all[i], t.get(i));
        }
        assertEquals(dir + "/s_*.bin", t.describe());
    }

    @Test
    void globstarMatchesAnyDepthIncludingNone() throws IOException {
        Shards.write(dir.resolve("d/x1.bin"), 1);
        Shards.write(dir.resolve("d/sub/x2.bin"), 2);
        Shards.write(dir.resolve("d/sub/deeper/x3.bin"), 3);
        Shards.write(dir.resolve("d/sub/y.bin"), 4);
        List<Path> files = DataSources.expand(dir + "/d/**/x*.bin");
        assertEquals(3, files.size(), files.toString());
        TokenData t = DataSources.open(dir + "/d/**/x*.bin", 8);
        assertEquals(3, t.size());
    }

    @Test
    void relativeGlobStartsAtCurrentDirectory() throws IOException {
        // Surefire runs in the project directory; target/ is ignored by git.
        String rel = "target/datasources-test-" + System.nanoTime();
        Shards.write(Path.of(rel, "a.bin"), 5, 6);
        TokenData t = DataSources.open(rel + "/*.bin", 8);
        assertEquals(2, t.size());
        assertTrue(t.describe().startsWith(rel), t.describe());
    }

    @Test
    void noMatch() {
        String glob = dir + "/data/*.bin";
        assertDataError(() -> DataSources.open(glob, 1024), glob,
                "no file matches '" + glob + "'", "check the path or quote the glob");
        String plain = dir + "/missing.bin";
        assertDataError(() -> DataSources.open(plain, 1024), plain, "no such file");
    }

    @Test
    void directoryIsNotAFile() {
        assertDataError(() -> DataSources.open(dir.toString(), 1024), dir.toString(),
                "is a directory", "/*.bin");
    }

    @Test
    void wrongMagic() throws IOException {
        Path f = dir.resolve("text.bin");
        Files.writeString(f, "this is text, not a shard, but long enough? no.");
        assertDataError(() -> DataSources.open(f.toString(), 1024), f.toString(),
                "not a token shard");
        Path g = Shards.writeRaw(dir.resolve("g.bin"), 12345, 1, 2, 1, 2);
        assertDataError(() -> DataSources.open(g.toString(), 1024), g.toString(),
                "wrong magic 12345", "expected 20240520");
    }

    @Test
    void truncatedAndSizeMismatch() throws IOException {
        Path f = Shards.writeRaw(dir.resolve("short.bin"), ShardTokens.MAGIC, 1, 10, 1, 2, 3);
        assertDataError(() -> DataSources.open(f.toString(), 1024), f.toString(),
                "header says 10 tokens", "truncated", "re-create");
        Path g = Shards.writeRaw(dir.resolve("long.bin"), ShardTokens.MAGIC, 1, 1, 1, 2, 3);
        assertDataError(() -> DataSources.open(g.toString(), 1024), g.toString(),
                "trailing data");
        Path h = dir.resolve("header.bin");
        Files.write(h, java.nio.ByteBuffer.allocate(100).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(ShardTokens.MAGIC).array());
        assertDataError(() -> DataSources.open(h.toString(), 1024), h.toString(),
                "truncated shard", "100 bytes");
    }

    @Test
    void wrongVersion() throws IOException {
        Path f = Shards.writeRaw(dir.resolve("v.bin"), ShardTokens.MAGIC, 2, 1, 1);
        assertDataError(() -> DataSources.open(f.toString(), 1024), f.toString(),
                "version 2", "re-tokenize");
    }

    @Test
    void tokenOutsideVocab() throws IOException {
        int[] toks = Shards.range(0, 100_000);
        for (int i = 0; i < toks.length; i++) {
            toks[i] %= 1000;
        }
        toks[70_001] = 1500;
        toks[90_000] = 2000;
        Path f = Shards.write(dir.resolve("v.bin"), toks);
        assertDataError(() -> DataSources.open(f.toString(), 1024), f.toString(),
                "token id 1500", "position 70001", "set vocab_size >= 1501 in the config"
                        + " or re-tokenize");
        assertEquals(100_000, DataSources.open(f.toString(), 2001).size());
    }

    @Test
    void textNeedsVocab256() throws IOException {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "hello", StandardCharsets.US_ASCII);
        assertDataError(() -> DataSources.open(f.toString(), 100), f.toString(),
                "vocab_size is 100", "set vocab_size >= 256");
    }

    @Test
    void mixingTextAndShardsFails() throws IOException {
        Shards.write(dir.resolve("a.bin"), 1);
        Files.writeString(dir.resolve("b.txt"), "hello");
        String glob = dir + "/*";
        assertDataError(() -> DataSources.open(glob, 1024), glob, "both token shards",
                "a.bin", "b.txt", "narrow the glob");
    }

    @Test
    void shardMagicWithoutBinNameIsAShard() throws IOException {
        Path f = Shards.write(dir.resolve("tokens.dat"), 3, 4);
        TokenData t = DataSources.open(f.toString(), 8);
        assertEquals(2, t.size());
        assertEquals(4, t.get(1));
    }

    @Test
    void globstarVariants() {
        assertEquals(List.of("**/x.bin", "x.bin"), DataSources.globstarVariants("**/x.bin"));
        assertEquals(4, DataSources.globstarVariants("a/**/b/**/c").size());
        assertEquals(List.of("a**/x"), DataSources.globstarVariants("a**/x"));
    }
}
