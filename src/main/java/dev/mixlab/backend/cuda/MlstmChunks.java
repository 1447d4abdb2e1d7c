package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Mlstm;
import dev.mixlab.ir.MlstmGrad;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Shape;

/**
 * Shapes, scratch layout and shared-memory sizes of the chunked mLSTM kernels ({@code mlstm_c_*} in
 * kernels.cu). The cell's output does not depend on its stabiliser, so the chunked form keeps stabilisers
 * of its own (every exponent ≤ 0) and differentiates with them held constant; the state (C̃, ñ) crosses
 * chunks by an elementwise scan that also runs the scalar stabiliser recurrence. Training only, and only
 * where the gradient kernel's shared memory fits (equal key and value widths up to 122); decoding and
 * {@code -Dmixlab.cuda.chunkedScan=false} keep the token-by-token kernels.
 *
 * @param b sequences
 * @param t tokens
 * @param h heads
 * @param dk key width
 * @param dv value width
 */
record MlstmChunks(int b, int t, int h, int dk, int dv) implements ChunkedScan {
    /** The chunked shapes of an mLSTM node, or null where it runs token by token. */
    static MlstmChunks of(Node node) {
        boolean training = node.op() instanceof MlstmGrad || node.op() instanceof Mlstm m && !m.stateful();
        Shape q = node.input(0).shape();
        MlstmChunks c = new MlstmChunks(q.dim(0), q.dim(1), q.dim(2), q.dim(3), node.input(2).shape().dim(3));
        if (!ENABLED || !training || c.gradShared() > MAX_SHARED) return null;
        return c;
    }

    /** Floats of one head's state: C̃ [dv][dk], then ñ [dk]. */
    long stateSize() {
        return (long) dv * dk + dk;
    }

    /** State entries the scans run over: (b, h) × state size. */
    long stateEntries() {
        return (long) b * h * stateSize();
    }

    /**
     * Scratch offsets from the node's aux base: the in-chunk cumulative log σ(f) [rows], g [chunks], N̂ and the
     * chunk-start states [chunks, state], the stabilisers at chunk boundaries [(b, h), chunks + 1]; for the
     * backward also da [rows, dv], ds [rows], Nb and the adjoints after each chunk [chunks, state]. The last
     * entry is the total.
     */
    long[] layout(boolean backward) {
        long per = (long) chunkBlocks() * stateSize(), ms = (long) b * h * (chunks() + 1), rows = rows();
        return backward ? ChunkedScan.offsets(rows, chunkBlocks(), per, per, ms, rows * dv, rows, per, per)
                : ChunkedScan.offsets(rows, chunkBlocks(), per, per, ms);
    }

    // Shared memory per kernel, in the order the kernels carve it (rows padded by one float).

    int prepShared() {
        return 4 * (GC * (dk + 1) + GC * (dv + 1) + GC);
    }

    int outShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (2 * GC * lk + 2 * GC * lv + dv * lk + dk + 2 * GC * lc + 6 * GC);
    }

    int gradShared() {
        int lk = dk + 1, lv = dv + 1, lc = GC + 1;
        return 4 * (4 * GC * lk + 2 * GC * lv + 2 * dv * lk + 3 * GC * lc + 2 * dk + 12 * GC + 32);
    }
}
