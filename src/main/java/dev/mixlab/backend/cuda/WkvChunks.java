package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Node;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Wkv;
import dev.mixlab.ir.WkvGrad;

/**
 * Shapes, scratch layout and shared-memory sizes of the chunked RWKV-6 wkv kernels ({@code wkv_c_*} in
 * kernels.cu): per-chunk products with pair weights computed per key channel, and an elementwise scan over
 * chunks (the decay across a chunk is per state row). Training only, and only where the gradient kernel's
 * shared memory fits the GPU's opt-in limit (head widths up to 128); decoding and
 * {@code -Dmixlab.cuda.chunkedScan=false} keep the token-by-token kernels.
 *
 * @param b sequences
 * @param t tokens
 * @param h heads
 * @param dk key width
 * @param dv value width
 */
record WkvChunks(int b, int t, int h, int dk, int dv) implements ChunkedScan {
    /** The chunked shapes of a wkv node, or null where it runs token by token. */
    static WkvChunks of(Node node) {
        boolean training = node.op() instanceof WkvGrad || node.op() instanceof Wkv w && !w.stateful();
        Shape r = node.input(0).shape();
        WkvChunks c = new WkvChunks(r.dim(0), r.dim(1), r.dim(2), r.dim(3), node.input(2).shape().dim(3));
        if (!ENABLED || !training || c.dk > MAX_D || c.dv > MAX_D || c.gradShared() > MAX_SHARED) return null;
        return c;
    }

    /** Floats of one head's state. */
    long stateSize() {
        return (long) dk * dv;
    }

    private long perChunk() {
        return (long) chunkBlocks() * stateSize();
    }

    /**
     * Scratch offsets from the node's aux base: the cumulative log decays [rows, dk], N and the chunk-start
     * states [chunks, dk, dv]; for the backward also Nb and the adjoints after each chunk [chunks, dk, dv]
     * and each chunk's share of du [chunks, dk]. The last entry is the total.
     */
    long[] layout(boolean backward) {
        long ch = perChunk();
        return backward ? ChunkedScan.offsets(rows() * dk, ch, ch, ch, ch, (long) chunkBlocks() * dk)
                : ChunkedScan.offsets(rows() * dk, ch, ch);
    }

    // Shared memory per kernel, in the order the kernels carve it (rows padded by one float).

    int prepShared(boolean backward) {
        int lk = dk + 1, lv = dv + 1;
        return 4 * (2 * GC * lk + GC * lv + (backward ? GC * lk + GC * lv : 0));
    }

    int outShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (3 * GC * lk + GC * lv + dk * lv + GC * lc);
    }

    int gradShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (7 * GC * lk + 2 * GC * lv + dk * lv + 2 * GC * lc + dk);
    }
}
