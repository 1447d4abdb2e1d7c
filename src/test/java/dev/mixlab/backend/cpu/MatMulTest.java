package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MatMulTest {
    private static final double TOL = 1e-5;

    @AfterEach
    void restore() {
        MatMul.serial = false;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    /** Runs one case against the fp64 reference; returns the float result for further checks. */
    private static float[] check(SplittableRandom r, int M, int N, int K, boolean tA, boolean tB, boolean acc) {
        int aOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5);
        float[] a = random(r, aOff + M * K + 3);
        float[] b = random(r, bOff + K * N + 2);
        float[] c = random(r, cOff + M * N + 1);
        if (!acc) Arrays.fill(c, cOff, cOff + M * N, Float.NaN);   // every element must be written
        double[] cd = toDouble(c);
        if (!acc) Arrays.fill(cd, cOff, cOff + M * N, 0.0);
        float[] before = c.clone();
        MatMul.matmul(a, aOff, tA, b, bOff, tB, c, cOff, M, N, K, acc);
        MatMul.matmulReference(toDouble(a), aOff, tA, toDouble(b), bOff, tB, cd, cOff, M, N, K, acc);
        assertClose(cd, c, cOff, M * N, String.format("M=%d N=%d K=%d tA=%b tB=%b acc=%b", M, N, K, tA, tB, acc));
        // Nothing outside C's region is touched.
        for (int i = 0; i < cOff; i++) assertEquals(before[i], c[i]);
        for (int i = cOff + M * N; i < c.length; i++) assertEquals(before[i], c[i]);
        return c;
    }

    private static void assertClose(double[] ref, float[] got, int off, int n, String what) {
        double err = 0, norm = 0;
        for (int i = off; i < off + n; i++) {
            assertFalse(Float.isNaN(got[i]), what + ": NaN at " + (i - off));
            double d = got[i] - ref[i];
            err += d * d;
            norm += ref[i] * ref[i];
        }
        double rel = Math.sqrt(err) / Math.max(Math.sqrt(norm), 1e-30);
        assertTrue(rel < TOL, what + ": relative Frobenius error " + rel);
    }

    @Test
    void oddSizesAllLayouts() {
        SplittableRandom r = new SplittableRandom(1);
        int[] sizes = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 47, 65, 129};
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true})
                for (int t = 0; t < 60; t++) {
                    int M = sizes[r.nextInt(sizes.length)];
                    int N = sizes[r.nextInt(sizes.length)];
                    int K = sizes[r.nextInt(sizes.length)];
                    check(r, M, N, K, tA, tB, r.nextBoolean());
                }
    }

    @Test
    void sizesCrossingBlockBoundaries() {
        SplittableRandom r = new SplittableRandom(2);
        // K crosses KC blocks; M crosses MC tiles; N crosses NR panels.
        int[][] shapes = {{MatMul.MC + 3, 2 * MatMul.NR + 5, MatMul.KC * 2 + 7}, {300, 70, 513},
                {5, 1000, 257}, {1, 1, 1000}, {257, 1, 300}, {1, 300, 3}};
        for (int[] s : shapes)
            for (boolean tA : new boolean[] {false, true})
                for (boolean tB : new boolean[] {false, true})
                    for (boolean acc : new boolean[] {false, true}) check(r, s[0], s[1], s[2], tA, tB, acc);
    }

    @Test
    void largeKUsesSeveralPackedBChunks() {
        SplittableRandom r = new SplittableRandom(3);
        // npad*KC*blocks > B_CHUNK_FLOATS forces more than one chunk of packed B.
        int N = 2100, K = (MatMul.B_CHUNK_FLOATS / (2112 * MatMul.KC) + 1) * MatMul.KC + 9;
        check(r, 9, N, K, true, false, true);
        check(r, 9, N, K, false, true, false);
    }

    @Test
    void zeroK() {
        float[] c = {1, 2, 3, 4, 5, 6};
        MatMul.matmul(new float[0], 0, false, new float[0], 0, true, c, 0, 2, 3, 0, true);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c);
        MatMul.matmul(new float[0], 0, false, new float[0], 0, true, c, 0, 2, 3, 0, false);
        assertArrayEquals(new float[6], c);
        MatMul.matmul(new float[0], 0, false, new float[0], 0, false, c, 0, 0, 3, 5, false);
    }

    @Test
    void aliasingOneArray() {
        SplittableRandom r = new SplittableRandom(4);
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true})
                for (boolean acc : new boolean[] {false, true}) {
                    int M = 37, N = 45, K = 300;
                    int aOff = 3, bOff = aOff + M * K + 1, cOff = bOff + K * N + 2;
                    float[] x = random(r, cOff + M * N);
                    float[] a = Arrays.copyOfRange(x, aOff, aOff + M * K);
                    float[] b = Arrays.copyOfRange(x, bOff, bOff + K * N);
                    float[] c = Arrays.copyOfRange(x, cOff, cOff + M * N);
                    MatMul.matmul(a, 0, tA, b, 0, tB, c, 0, M, N, K, acc);
                    MatMul.matmul(x, aOff, tA, x, bOff, tB, x, cOff, M, N, K, acc);
                    assertArrayEquals(c, Arrays.copyOfRange(x, cOff, cOff + M * N));
                    // C before A and B in the array, too.
                    float[] y = new float[M * N + M * K + K * N];
                    System.arraycopy(x, cOff, y, 0, M * N);
                    System.arraycopy(a, 0, y, M * N, M * K);
                    System.arraycopy(b, 0, y, M * N + M * K, K * N);
                    float[] c2 = Arrays.copyOfRange(x, cOff, cOff + M * N);
                    System.arraycopy(c2, 0, y, 0, M * N);
                    MatMul.matmul(a, 0, tA, b, 0, tB, c2, 0, M, N, K, true);
                    MatMul.matmul(y, M * N, tA, y, M * N + M * K, tB, y, 0, M, N, K, true);
                    assertArrayEquals(c2, Arrays.copyOf(y, M * N));
                }
    }

    @Test
    void bitIdenticalToSingleThreaded() {
        SplittableRandom r = new SplittableRandom(5);
        int[][] shapes = {{1000, 300, 700}, {64, 96, 5000}, {257, 1025, 129}};
        for (int[] s : shapes)
            for (boolean tA : new boolean[] {false, true})
                for (boolean tB : new boolean[] {false, true}) {
                    int M = s[0], N = s[1], K = s[2];
                    float[] a = random(r, M * K), b = random(r, K * N), c0 = random(r, M * N);
                    float[] par = c0.clone(), ser = c0.clone();
                    MatMul.serial = false;
                    MatMul.matmul(a, 0, tA, b, 0, tB, par, 0, M, N, K, true);
                    MatMul.serial = true;
                    MatMul.matmul(a, 0, tA, b, 0, tB, ser, 0, M, N, K, true);
                    MatMul.serial = false;
                    assertArrayEquals(ser, par, "M=" + M + " N=" + N + " K=" + K);
                }
        assertTrue(Parallel.threads() >= 1);
    }
}
