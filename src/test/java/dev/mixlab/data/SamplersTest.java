package dev.mixlab.data;

import static dev.mixlab.data.DataSourcesTest.assertDataError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplersTest {
    @TempDir
    Path dir;

    /** Tokens equal to their index (mod 1000), so windows can be checked by value. */
    private TokenData counting(int n) throws IOException {
        int[] t = Shards.range(0, n);
        for (int i = 0; i < n; i++) {
            t[i] %= 1000;
        }
        return DataSources.open(Shards.write(dir.resolve("c.bin"), t).toString(), 1000);
    }

    @Test
    void windowsAreShiftedInBoundsAndDeterministic() throws IOException {
        TokenData d = counting(500);
        int batch = 64;
        int seq = 16;
        int[] x = new int[batch * seq];
        int[] y = new int[batch * seq];
        WindowSampler s = new WindowSampler(d, 42);
        boolean sawLast = false;
        for (int step = 0; step < 50; step++) {
            s.next(x, y, batch, seq);
            for (int b = 0; b < batch; b++) {
                int start = x[b * seq];
                assertTrue(start >= 0 && start <= 500 - seq - 1, "start " + start);
                sawLast |= start == 500 - seq - 1;
                for (int t = 0; t < seq; t++) {
                    assertEquals(start + t, x[b * seq + t]);
                    assertEquals(start + t + 1, y[b * seq + t]);
                }
            }
        }
        assertTrue(sawLast, "the last start position is never drawn");

        int[] x1 = new int[batch * seq];
        int[] y1 = new int[batch * seq];
        int[] x2 = new int[batch * seq];
        int[] y2 = new int[batch * seq];
        new WindowSampler(d, 7).next(x1, y1, batch, seq);
        new WindowSampler(d, 7).next(x2, y2, batch, seq);
        assertArrayEquals(x1, x2);
        assertArrayEquals(y1, y2);
        new WindowSampler(d, 8).next(x2, y2, batch, seq);
        assertFalse(Arrays.equals(x1, x2));
    }

    @Test
    void samplerResumesExactly() throws IOException {
        TokenData d = counting(300);
        int[] x = new int[40];
        int[] y = new int[40];
        WindowSampler a = new WindowSampler(d, 1);
        a.next(x, y, 4, 10);
        long saved = a.state();
        int[] xa = new int[40];
        int[] ya = new int[40];
        a.next(xa, ya, 4, 10);
        WindowSampler b = new WindowSampler(d, 999);
        b.restore(saved);
        b.next(x, y, 4, 10);
        assertArrayEquals(xa, x);
        assertArrayEquals(ya, y);
    }

    @Test
    void tooShortForOneWindow() throws IOException {
        Path f = Shards.write(dir.resolve("tiny.bin"), 1, 2, 3, 4);
        TokenData d = DataSources.open(f.toString(), 8);
        int[] x = new int[4];
        int[] y = new int[4];
        assertDataError(() -> new WindowSampler(d, 0).next(x, y, 1, 4), f.toString(),
                "4 tokens, shorter than one window of seq_len+1 = 5",
                "use more data or a smaller seq_len");
        new WindowSampler(d, 0).next(x, y, 1, 3); // exactly one window fits
        assertArrayEquals(new int[] {1, 2, 3, 0}, x);
        assertArrayEquals(new int[] {2, 3, 4, 0}, y);
        assertDataError(() -> new SequentialWindows(d).fill(x, y, 0, 1, 4), f.toString(),
                "shorter than one window");
    }

    @Test
    void sequentialWindowsCoverInOrder() throws IOException {
        TokenData d = counting(101);
        SequentialWindows w = new SequentialWindows(d);
        assertEquals(10, w.windows(10));
        assertEquals(11, w.windows(9)); // (101 - 1) / 9
        int[] x = new int[30];
        int[] y = new int[30];
        w.fill(x, y, 7, 3, 10);
        for (int i = 0; i < 30; i++) {
            assertEquals(70 + i, x[i]);
            assertEquals(71 + i, y[i]);
        }
        assertEquals(100, y[29]); // the very last token is a target
    }

    @Test
    void tokenStreamMatchesThePythonSplitAndWraps() throws IOException {
        Shards.write(dir.resolve("s_0.bin"), 0, 1, 2, 3, 4);
        Shards.write(dir.resolve("s_1.bin"), 5, 6, 7);
        TokenStream s = new TokenStream(DataSources.open(dir + "/s_*.bin", 8));
        int[] x = new int[4];
        int[] y = new int[4];
        assertEquals(2, s.next(x, y, 5, 2)); // usable 4, takes 5 tokens
        assertArrayEquals(new int[] {0, 1, 2, 3}, x);
        assertArrayEquals(new int[] {1, 2, 3, 4}, y);
        assertEquals(5, s.position());
        long saved = s.position();
        s.next(x, y, 4, 2); // takes 5, 6, 7, then wraps to 0, 1
        assertArrayEquals(new int[] {5, 6, 7, 0}, x);
        assertArrayEquals(new int[] {6, 7, 0, 1}, y);
        assertEquals(2, s.position());
        s.restore(saved);
        int[] t = new int[20];
        s.take(20, t);
        assertArrayEquals(new int[] {5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0},
                t);
    }

    @Test
    void splitsHoldOutLastTenPercent() throws IOException {
        Path f = dir.resolve("t.txt");
        byte[] b = new byte[1000];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i % 251);
        }
        Files.write(f, b);
        Splits s = Splits.trainVal(f.toString(), null, 256);
        assertEquals(900, s.train().size());
        assertEquals(100, s.val().size());
        assertEquals(900 % 251, s.val().get(0));
        assertEquals(899 % 251, s.train().get(899));
        assertTrue(s.note().contains("last 10%"), s.note());
        assertTrue(s.val().describe().startsWith(f.toString()), s.val().describe());

        Path v = dir.resolve("v.txt");
        Files.writeString(v, "abc");
        Splits s2 = Splits.trainVal(f.toString(), v.toString(), 256);
        assertEquals(1000, s2.train().size());
        assertEquals(3, s2.val().size());
    }

    @Test
    void splitMixIsUnbiasedEnoughAndResumable() {
        SplitMix64 r = new SplitMix64(123);
        int[] counts = new int[3];
        for (int i = 0; i < 30_000; i++) {
            counts[r.nextInt(3)]++;
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000) < 500, Arrays.toString(counts));
        }
        double d = r.nextDouble();
        assertTrue(d >= 0 && d < 1);
        long st = r.state();
        long a = r.next();
        r.restore(st);
        assertEquals(a, r.next());
        // Reference values of splitmix64 seeded with 0 (its first outputs are well known).
        SplitMix64 z = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, z.next());
        assertEquals(0x6E789E6AA1B965F4L, z.next());
    }

    @Test
    void realValShardWhenPresent() {
        Path f = Path.of("/work/shared/data/shakespeare_sp1024/shakespeare_val_000000.bin");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(f), "no shared data");
        TokenData d = DataSources.open(f.toString(), 1024);
        assertTrue(d.size() > 40_000, "size " + d.size());
        int max = 0;
        for (long i = 0; i < d.size(); i++) {
            max = Math.max(max, d.get(i));
        }
        assertTrue(max < 1024, "max " + max);
        assertEquals(1, d.get(0)); // documents start with BOS
        int top = max;
        assertDataError(() -> DataSources.open(f.toString(), top), f.toString(),
                "set vocab_size >= " + (top + 1));
    }
}
