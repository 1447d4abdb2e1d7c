package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Node;
import dev.mixlab.ir.Retention;
import dev.mixlab.ir.RetentionGrad;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SsdScan;
import dev.mixlab.ir.SsdScanGrad;

/**
 * Shapes, scratch layout and shared-memory sizes of the chunked SSD kernels ({@code ssd_c_*} in
 * kernels.cu): dense products within chunks of {@link ChunkedScan#GC} tokens, and an elementwise scan over
 * chunks (the decay across a chunk is a scalar per head). Training scans only, state widths up to
 * {@link ChunkedScan#MAX_D}; decoding keeps the token-by-token kernel, as does
 * {@code -Dmixlab.cuda.chunkedScan=false}. Retention runs on the same kernels: it is SSD with x = v,
 * B = k, C = q, one group per head and the constant log decay log γ_h.
 *
 * @param b sequences
 * @param t tokens
 * @param h heads
 * @param g groups sharing B and C
 * @param p head width
 * @param n state width
 */
record SsdChunks(int b, int t, int h, int g, int p, int n) implements ChunkedScan {
    /** The chunked shapes of an SSD node, or null where it runs token by token. */
    static SsdChunks of(Node node) {
        boolean training = node.op() instanceof SsdScanGrad || node.op() instanceof SsdScan s && !s.cached();
        Shape x = node.input(0).shape(), bm = node.input(2).shape();
        if (!ENABLED || !training || x.dim(3) > MAX_D || bm.dim(3) > MAX_D) return null;
        return new SsdChunks(x.dim(0), x.dim(1), x.dim(2), bm.dim(2), x.dim(3), bm.dim(3));
    }

    /** Retention as SSD (P = dv, N = dk, a group per head), or null where it runs token by token. */
    static SsdChunks retention(Node node) {
        boolean training = node.op() instanceof RetentionGrad || node.op() instanceof Retention r && !r.stateful();
        Shape q = node.input(0).shape();
        int dv = node.input(2).shape().dim(3);
        if (!ENABLED || !training || q.dim(3) > MAX_D || dv > MAX_D) return null;
        return new SsdChunks(q.dim(0), q.dim(1), q.dim(2), q.dim(2), dv, q.dim(3));
    }

    /**
     * Retention's scratch before the SSD layout: the log decays [rows] and, for the backward, their
     * gradient (computed by the SSD kernel, unused) [rows].
     */
    long retentionExtra(boolean backward) {
        return (rows() * 4 + 255) / 256 * 256 * (backward ? 2 : 1);
    }

    /** Floats of one head's state. */
    long stateSize() {
        return (long) p * n;
    }

    private long perChunk() {
        return (long) chunkBlocks() * stateSize();
    }

    /**
     * Scratch offsets from the node's aux base: the cumulative decays [rows], N and the chunk-start states
     * [chunks,P,N]; for the backward also Nb and the adjoints after each chunk [chunks,P,N] and the per-head
     * dB, dC [rows,N]. The last entry is the total.
     */
    long[] layout(boolean backward) {
        long rows = rows(), ch = perChunk();
        return backward ? ChunkedScan.offsets(rows, ch, ch, ch, ch, rows * n, rows * n) : ChunkedScan.offsets(rows, ch, ch);
    }

    // Shared memory per kernel, in the order the kernels carve it (rows padded by one float).

    int prepShared(boolean backward) {
        int lp = p + 1, ln = n + 1;
        return 4 * (GC * lp + GC * ln + 3 * GC + (backward ? GC * lp + GC * ln : 0));
    }

    int outShared() {
        int lp = p + 1, ln = n + 1, lc = GC + 1;
        return 4 * (GC * lp + 2 * GC * ln + p * ln + GC * lc + 2 * GC);
    }

    int gradShared() {
        int lp = p + 1, ln = n + 1, lc = GC + 1;
        return 4 * (3 * GC * lp + 2 * GC * ln + p * ln + 3 * GC * lc + 6 * GC + 32);
    }
}
