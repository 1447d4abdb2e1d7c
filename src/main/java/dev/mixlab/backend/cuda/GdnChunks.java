package dev.mixlab.backend.cuda;

import dev.mixlab.ir.GatedDeltaScan;
import dev.mixlab.ir.GatedDeltaScanGrad;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Shape;

/**
 * Shapes, scratch layout and shared-memory sizes of the chunked gated-delta kernels ({@code gdn_c_*} in
 * kernels.cu). Training scans ({@link GatedDeltaScan} without a cache, and its gradient) run chunked:
 * dense products within chunks of {@link ChunkedScan#GC} tokens, one sequential loop over T/GC chunks for the
 * state. Decoding (the cached op) and heads wider than {@link ChunkedScan#MAX_D} keep the token-by-token kernels;
 * {@code -Dmixlab.cuda.chunkedScan=false} forces those everywhere (for comparison and bisecting).
 *
 * @param b sequences
 * @param t tokens
 * @param h heads
 * @param dk key width
 * @param dv value width
 */
record GdnChunks(int b, int t, int h, int dk, int dv) implements ChunkedScan {
    /** The chunked shapes of a gated-delta node, or null where it runs token by token. */
    static GdnChunks of(Node n) {
        boolean training = n.op() instanceof GatedDeltaScanGrad || n.op() instanceof GatedDeltaScan g && !g.cached();
        Shape q = n.input(0).shape();
        int dv = n.input(2).shape().dim(3);
        if (!ENABLED || !training || q.dim(3) > MAX_D || dv > MAX_D) return null;
        return new GdnChunks(q.dim(0), q.dim(1), q.dim(2), q.dim(3), dv);
    }

    /**
     * State columns per block of the scan over chunks: 16, halved (down to 4) while that leaves fewer blocks
     * than the GPU has multiprocessors — long contexts at a fixed batch mean few sequences, and the scan's
     * parallelism is sequences × heads × column blocks.
     */
    int scanColumns(int multiprocessors) {
        int cols = 16;
        while (cols > 4 && scanBlocks(cols) < multiprocessors) cols /= 2;
        return cols;
    }

    /** Blocks of the scan over chunks: (b, h) × column block. */
    int scanBlocks(int cols) {
        return b * h * ((dv + cols - 1) / cols);
    }

    /** Floats of one [dk,dv] matrix per chunk, [B,H,chunks,dk,dv]. */
    private long perChunk(int cols) {
        return (long) b * h * chunks() * dk * cols;
    }

    /**
     * Scratch offsets from the node's aux base, in this order: the cumulative decays [rows], W [rows,dk],
     * Ũ [rows,dv], M [chunks,dk,dk], N and the chunk-start states [chunks,dk,dv]; for the backward also
     * Wb [rows,dk], R0 [rows,dv], Nb and the adjoints after each chunk [chunks,dk,dv]. The last entry is the total.
     */
    long[] layout(boolean backward) {
        long rows = rows(), ck = perChunk(dk), cv = perChunk(dv);
        return backward ? ChunkedScan.offsets(rows, rows * dk, rows * dv, ck, cv, cv, rows * dk, rows * dv, cv, cv)
                : ChunkedScan.offsets(rows, rows * dk, rows * dv, ck, cv, cv);
    }

    // Shared memory per kernel, in the order the kernels carve it (rows padded by one float).

    int prepShared(boolean backward) {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        int f = 2 * GC * lk + 2 * GC * lv + 2 * GC * lc + 4 * GC;
        if (backward) f += GC * lk + 2 * GC * lv + GC * lc;
        return 4 * f;
    }

    int scanShared(int cols) {
        int ls = cols + 1;
        return 4 * (dk * ls + 2 * dk * (dk + 1) + 2 * dk * ls);
    }

    int outShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (3 * GC * lk + GC * lv + dk * lv + GC * lc + 2 * GC);
    }

    int gradShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (3 * GC * lk + 3 * GC * lv + dk * lv + 5 * GC * lc + 8 * GC + 32);
    }
}
