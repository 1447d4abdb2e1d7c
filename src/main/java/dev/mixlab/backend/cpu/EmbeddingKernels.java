package dev.mixlab.backend.cpu;

import java.util.Arrays;

/** Embedding row gather and its scatter-add gradient. */
final class EmbeddingKernels {
    private EmbeddingKernels() {}

    /** out[r,:] = table[ids[r],:] for {@code rows} ids; table is [vocab, d]. */
    static void embedding(float[] f, int[] ints, int tableOff, int idsOff, int outOff, int rows, int vocab, int d) {
        Chunks.forRange(rows, Math.max(1, 8192 / Math.max(1, d)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int id = ints[idsOff + r];
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " outside [0," + vocab + ")");
                System.arraycopy(f, tableOff + id * d, f, outOff + r * d, d);
            }
        });
    }

    /**
     * dtable[v,:] = Σ_{r: ids[r]=v} dy[r,:]. Rows are bucketed by id with a stable counting sort on
     * the calling thread; then each vocabulary row is summed by one chunk, in row order, in double,
     * so there are no races and the result does not depend on the thread count.
     */
    static void embeddingGrad(float[] f, int[] ints, int idsOff, int dyOff, int outOff, int rows, int vocab, int d) {
        int[] start = Scratch.ints(Scratch.PARTIALS, vocab + 1 + rows);
        Arrays.fill(start, 0, vocab + 1, 0);
        for (int r = 0; r < rows; r++) {
            int id = ints[idsOff + r];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " outside [0," + vocab + ")");
            start[id + 1]++;
        }
        for (int v = 0; v < vocab; v++) start[v + 1] += start[v];
        int order = vocab + 1;   // order[] lives after start[] in the same buffer
        int[] fill = Scratch.ints(Scratch.A, vocab);
        System.arraycopy(start, 0, fill, 0, vocab);
        for (int r = 0; r < rows; r++) start[order + fill[ints[idsOff + r]]++] = r;
        Chunks.forRange(vocab, Math.max(1, 4096 / Math.max(1, d)), (v0, v1) -> {
            double[] acc = Scratch.doubles(Scratch.A, d);
            for (int v = v0; v < v1; v++) {
                int o = outOff + v * d;
                if (start[v] == start[v + 1]) {
                    Arrays.fill(f, o, o + d, 0f);
                    continue;
                }
                Arrays.fill(acc, 0, d, 0);
                for (int k = start[v]; k < start[v + 1]; k++) Simd.addToDouble(f, dyOff + start[order + k] * d, acc, 0, d);
                for (int c = 0; c < d; c++) f[o + c] = (float) acc[c];
            }
        });
    }
}
