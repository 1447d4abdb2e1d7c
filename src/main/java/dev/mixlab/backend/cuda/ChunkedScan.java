package dev.mixlab.backend.cuda;

/**
 * What the chunked recurrent-scan kernels ({@code gdn_c_*}, {@code ssd_c_*}, {@code wkv_c_*},
 * {@code mlstm_c_*} in kernels.cu) share: chunks of {@link #GC} tokens, one thread block of
 * {@link #THREADS} per (sequence, head, chunk) for the per-chunk products, and scratch laid out as
 * consecutive 256-byte-aligned arrays. Each implementation knows its op's shapes, scratch and shared memory.
 */
sealed interface ChunkedScan permits GdnChunks, SsdChunks, WkvChunks, MlstmChunks {
    /** Tokens per chunk (GC in kernels.cu). */
    int GC = 32;
    /** Threads per block of the per-chunk kernels. */
    int THREADS = 256;
    /** Widest head the chunk kernels take (their shared memory grows with it). */
    int MAX_D = 128;
    /** The H100's (sm_90) opt-in shared memory per block. */
    int MAX_SHARED = 232_448;
    /** {@code -Dmixlab.cuda.chunkedScan=false} keeps the token-by-token kernels everywhere (for comparison, bisecting). */
    boolean ENABLED = !"false".equals(System.getProperty("mixlab.cuda.chunkedScan"));

    /** Sequences. */
    int b();

    /** Tokens per sequence. */
    int t();

    /** Heads. */
    int h();

    default long rows() {
        return (long) b() * t() * h();
    }

    default int chunks() {
        return (t() + GC - 1) / GC;
    }

    /** Blocks of the per-chunk kernels: (b, h) × chunk. */
    default int chunkBlocks() {
        return b() * h() * chunks();
    }

    /** Offsets of consecutive float arrays of the given sizes, each 256-byte aligned; the last entry is the total bytes. */
    static long[] offsets(long... floats) {
        long[] off = new long[floats.length + 1];
        for (int i = 0; i < floats.length; i++) off[i + 1] = off[i] + (floats[i] * 4 + 255) / 256 * 256;
        return off;
    }
}
