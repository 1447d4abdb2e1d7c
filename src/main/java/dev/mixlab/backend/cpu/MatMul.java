package dev.mixlab.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply for the CPU backend (GotoBLAS-style: packed panels, a
 * register-blocked Vector API micro-kernel, cache blocking along K).
 *
 * <p><b>Determinism.</b> Every element of C is produced by exactly one task, and its sum runs
 * over K in a fixed order: K is cut into blocks of {@link #KC}; within a block the products are
 * fused-multiply-added one k at a time onto the running value of C (or onto zero for the first
 * block when not accumulating). How the M×N output is cut into tasks, and which thread runs a
 * task, changes nothing in that sequence, so the result is bit-identical for any thread count.
 *
 * <p><b>Memory.</b> Packing buffers are per thread and only grow; a call allocates nothing once
 * they have reached the size its shape needs (the lambda handed to {@link Parallel} aside).
 */
public final class MatMul {
    private MatMul() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /** Micro-kernel rows (broadcast values of A). */
    static final int MR = 8;
    /** Micro-kernel columns: two vectors of B (32 floats with AVX-512). */
    static final int NR = 2 * V;
    /** K block: a KC×NR panel of packed B (32 KiB at KC=256, NR=32) stays hot in L1/L2 while
     *  every MR-row panel of the A block streams past it. Part of the summation order: changing
     *  it changes results (deterministically). */
    static final int KC = 256;
    /** Most rows of C per task (a multiple of MR); a packed A block MC×KC is 128 KiB, in L2. */
    static final int MC = 128;
    /** Upper bound on the packed-B chunk (floats) kept for all tasks of one phase. */
    static final int B_CHUNK_FLOATS = 4 << 20;
    /** Upper bound on the K extent of a chunk (KC blocks), which bounds each task's packed A. */
    static final int MAX_CHUNK_BLOCKS = 16;
    /** Panels of B per C sub-block: a 128×256 C sub-block (128 KiB) stays in L2 across K. */
    static final int NC_PANELS = 8;

    /** Test switch: run every phase on the calling thread (results must not change). */
    static volatile boolean serial = false;

    /** Per-thread scratch: packed A block, the caller's shared packed B chunk, an edge tile. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * {@code C[M,N] = (accumulate ? C : 0) + op(A)[M,K] · op(B)[K,N]}, all row-major float arrays
     * addressed from offsets.
     *
     * <ul>
     *   <li>A: if {@code !transA}, element (i,k) is {@code a[aOff + i*K + k]}; if {@code transA},
     *       A is stored [K,M] and element (i,k) is {@code a[aOff + k*M + i]}.
     *   <li>B: if {@code !transB}, element (k,j) is {@code b[bOff + k*N + j]}; if {@code transB},
     *       B is stored [N,K] and element (k,j) is {@code b[bOff + j*K + k]}.
     *   <li>C: element (i,j) is {@code c[cOff + i*N + j]}.
     * </ul>
     * {@code a}, {@code b} and {@code c} may be the same array provided C's region is disjoint
     * from A's and B's. Any sizes ≥ 0 are accepted; with K = 0 the call only clears C (or leaves
     * it when accumulating). Results are bit-identical whatever the number of threads.
     */
    public static void matmul(float[] a, int aOff, boolean transA, float[] b, int bOff, boolean transB,
                              float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        if (M < 0 || N < 0 || K < 0) throw new IllegalArgumentException("negative size");
        if (M == 0 || N == 0) return;
        checkRange(c, cOff, (long) M * N, "c");
        if (K == 0) {
            if (!accumulate) java.util.Arrays.fill(c, cOff, cOff + M * N, 0f);
            return;
        }
        checkRange(a, aOff, (long) M * K, "a");
        checkRange(b, bOff, (long) K * N, "b");

        final int np = (N + NR - 1) / NR;          // NR panels of B
        final int npad = np * NR;
        // Chunk of K whose packed B all tasks share: whole KC blocks, bounded in size.
        int kcBlocks = Math.max(1, Math.min(MAX_CHUNK_BLOCKS, B_CHUNK_FLOATS / (npad * KC)));
        final int kChunk = (int) Math.min((long) K, (long) kcBlocks * KC);

        // Task grid over C: MC-row strips, split along N too when there are few strips so that
        // both cores get work (purely a scheduling choice: results do not depend on it).
        // Fewer rows per task when M is small (dW-like shapes: small output, long K) rather than
        // splitting N first: an N split repacks the same rows of A once per split.
        int mt = MC;
        if ((M + MC - 1) / MC < 8) mt = Math.max(4 * MR, ((M + 7) / 8 + MR - 1) / MR * MR);
        final int mTile = Math.min(MC, mt);
        final int mTiles = (M + mTile - 1) / mTile;
        int nSplit = Math.max(1, Math.min(np, (8 + mTiles - 1) / mTiles));
        final int panelsPerTile = (np + nSplit - 1) / nSplit;
        final int nTiles = (np + panelsPerTile - 1) / panelsPerTile;

        Scratch owner = SCRATCH.get();
        if (owner.b.length < (long) npad * kChunk) owner.b = new float[npad * kChunk];
        final float[] pb = owner.b;

        for (int k0 = 0; k0 < K; k0 += kChunk) {
            final int kLen = Math.min(kChunk, K - k0);
            final int kStart = k0;
            final boolean load = accumulate || k0 > 0;
            // Phase 1: pack B[k0:k0+kLen, :] panel by panel (disjoint writes).
            run(np, Math.max(1, np / 8), (p0, p1) -> {
                for (int p = p0; p < p1; p++) packB(b, bOff, transB, K, N, kStart, kLen, p, npad, pb);
            });
            // Phase 2: every task owns a tile of C and runs the chunk's KC blocks in order.
            run(mTiles * nTiles, 1, (t0, t1) -> {
                Scratch s = SCRATCH.get();
                for (int t = t0; t < t1; t++) {
                    int ti = t / nTiles, tj = t % nTiles;
                    int i0 = ti * mTile, mc = Math.min(mTile, M - i0);
                    int pStart = tj * panelsPerTile, pEnd = Math.min(np, pStart + panelsPerTile);
                    tile(a, aOff, transA, M, K, kStart, kLen, i0, mc, pStart, pEnd, npad, pb,
                            c, cOff, N, load, s);
                }
            });
        }
    }

    private static void run(int n, int grain, Parallel.RangeBody body) {
        if (serial) body.run(0, n);
        else Parallel.forRange(n, grain, body);
    }

    private static void checkRange(float[] x, int off, long len, String name) {
        if (off < 0 || off + len > x.length)
            throw new IndexOutOfBoundsException(name + ": offset " + off + " + " + len + " > " + x.length);
    }

    /**
     * One C tile (rows i0..i0+mc, panels pStart..pEnd) over K range [k0, k0+kLen). The tile's
     * rows of A are packed once for the whole range; then each sub-block of NC_PANELS panels runs
     * all KC blocks in order, so its part of C stays in L2 while K advances.
     */
    private static void tile(float[] a, int aOff, boolean transA, int M, int K, int k0, int kLen,
                             int i0, int mc, int pStart, int pEnd, int npad, float[] pb,
                             float[] c, int cOff, int N, boolean loadFirst, Scratch s) {
        int mp = (mc + MR - 1) / MR;
        int aBlock = mp * MR;                       // packed A: KC blocks of aBlock*kc floats
        if (s.a.length < aBlock * kLen) s.a = new float[aBlock * kLen];
        float[] pa = s.a;
        for (int kb = 0; kb < kLen; kb += KC) {
            packA(a, aOff, transA, M, K, i0, mc, k0 + kb, Math.min(KC, kLen - kb), pa, aBlock * kb);
        }
        for (int q0 = pStart; q0 < pEnd; q0 += NC_PANELS) {
            int q1 = Math.min(pEnd, q0 + NC_PANELS);
            for (int kb = 0; kb < kLen; kb += KC) {
                int kc = Math.min(KC, kLen - kb);
                boolean load = loadFirst || kb > 0;
                int aBase = aBlock * kb, bBase = kb * npad;
                for (int p = q0; p < q1; p++) {
                    int j = p * NR, nr = Math.min(NR, N - j);
                    int ib = bBase + p * NR * kc;
                    for (int r = 0; r < mp; r++) {
                        int i = r * MR, mr = Math.min(MR, mc - i);
                        int ia = aBase + r * MR * kc;
                        int ci = cOff + (i0 + i) * N + j;
                        if (mr == MR && nr == NR) {
                            kernel(kc, pa, ia, pb, ib, c, ci, N, load);
                        } else {
                            edge(kc, pa, ia, pb, ib, c, ci, N, mr, nr, load, s.tile);
                        }
                    }
                }
            }
        }
    }

    /** Ragged tile: same kernel on a zero-padded MR×NR copy, so the arithmetic is identical. */
    private static void edge(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ci, int ldc,
                             int mr, int nr, boolean load, float[] t) {
        java.util.Arrays.fill(t, 0f);
        if (load) for (int r = 0; r < mr; r++) System.arraycopy(c, ci + r * ldc, t, r * NR, nr);
        kernel(kc, pa, ia, pb, ib, t, 0, NR, load);
        for (int r = 0; r < mr; r++) System.arraycopy(t, r * NR, c, ci + r * ldc, nr);
    }

    /**
     * Packs rows i0..i0+mc, columns k0..k0+kc of op(A) into MR-row panels: panel r holds
     * {@code kc} groups of MR values (rows r*MR.. of column k), zero-padded past mc.
     */
    static void packA(float[] a, int aOff, boolean transA, int M, int K, int i0, int mc, int k0, int kc,
                      float[] pa, int paOff) {
        for (int r0 = 0; r0 < mc; r0 += MR) {
            int base = paOff + r0 * kc;
            int mr = Math.min(MR, mc - r0);
            if (transA) {
                // A stored [K,M]: the MR values of one k are contiguous.
                for (int k = 0; k < kc; k++) {
                    int src = aOff + (k0 + k) * M + i0 + r0;
                    int dst = base + k * MR;
                    if (mr == MR) {
                        for (int r = 0; r < MR; r++) pa[dst + r] = a[src + r];
                    } else {
                        for (int r = 0; r < MR; r++) pa[dst + r] = r < mr ? a[src + r] : 0f;
                    }
                }
            } else {
                for (int r = 0; r < MR; r++) {
                    if (r < mr) {
                        int src = aOff + (i0 + r0 + r) * K + k0;
                        for (int k = 0; k < kc; k++) pa[base + k * MR + r] = a[src + k];
                    } else {
                        for (int k = 0; k < kc; k++) pa[base + k * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs panel p (columns p*NR..) of op(B) rows k0..k0+kLen, as KC blocks: block kb starts at
     * {@code kb*npad}, panel p of it at {@code + p*NR*kc}, holding kc rows of NR values.
     */
    static void packB(float[] b, int bOff, boolean transB, int K, int N, int k0, int kLen, int p,
                      int npad, float[] pb) {
        int j0 = p * NR, nr = Math.min(NR, N - j0);
        for (int kb = 0; kb < kLen; kb += KC) {
            int kc = Math.min(KC, kLen - kb);
            int base = kb * npad + p * NR * kc;
            if (transB) {
                // B stored [N,K]: read each column contiguously, write with stride NR.
                for (int c = 0; c < NR; c++) {
                    if (c < nr) {
                        int src = bOff + (j0 + c) * K + k0 + kb;
                        for (int k = 0; k < kc; k++) pb[base + k * NR + c] = b[src + k];
                    } else {
                        for (int k = 0; k < kc; k++) pb[base + k * NR + c] = 0f;
                    }
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    int src = bOff + (k0 + kb + k) * N + j0;
                    int dst = base + k * NR;
                    System.arraycopy(b, src, pb, dst, nr);
                    for (int c = nr; c < NR; c++) pb[dst + c] = 0f;
                }
            }
        }
    }

    /**
     * The register-blocked micro-kernel: an MR×NR tile of C (8 rows × 2 vectors = 16 accumulators)
     * gets {@code kc} rank-1 updates, each a broadcast of one packed A value times two contiguous
     * packed B vectors. Starts from C when {@code load}, from zero otherwise.
     */
    static void kernel(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ci, int ldc,
                       boolean load) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (load) {
            c00 = FloatVector.fromArray(S, c, ci);           c01 = FloatVector.fromArray(S, c, ci + V);
            c10 = FloatVector.fromArray(S, c, ci + ldc);     c11 = FloatVector.fromArray(S, c, ci + ldc + V);
            c20 = FloatVector.fromArray(S, c, ci + 2 * ldc); c21 = FloatVector.fromArray(S, c, ci + 2 * ldc + V);
            c30 = FloatVector.fromArray(S, c, ci + 3 * ldc); c31 = FloatVector.fromArray(S, c, ci + 3 * ldc + V);
            c40 = FloatVector.fromArray(S, c, ci + 4 * ldc); c41 = FloatVector.fromArray(S, c, ci + 4 * ldc + V);
            c50 = FloatVector.fromArray(S, c, ci + 5 * ldc); c51 = FloatVector.fromArray(S, c, ci + 5 * ldc + V);
            c60 = FloatVector.fromArray(S, c, ci + 6 * ldc); c61 = FloatVector.fromArray(S, c, ci + 6 * ldc + V);
            c70 = FloatVector.fromArray(S, c, ci + 7 * ldc); c71 = FloatVector.fromArray(S, c, ci + 7 * ldc + V);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        }
        // Indices are linear in k (no separately stepped pointers) so C2 can hoist the bounds
        // checks of pa/pb out of the loop.
        for (int k = 0; k < kc; k++) {
            int pk = ia + k * MR, bk = ib + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bk);
            FloatVector b1 = FloatVector.fromArray(S, pb, bk + V);
            FloatVector x;
            x = FloatVector.broadcast(S, pa[pk]);     c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, pa[pk + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, pa[pk + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, pa[pk + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, pa[pk + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, pa[pk + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, pa[pk + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, pa[pk + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, ci);           c01.intoArray(c, ci + V);
        c10.intoArray(c, ci + ldc);     c11.intoArray(c, ci + ldc + V);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + V);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + V);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + V);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + V);
        c60.intoArray(c, ci + 6 * ldc); c61.intoArray(c, ci + 6 * ldc + V);
        c70.intoArray(c, ci + 7 * ldc); c71.intoArray(c, ci + 7 * ldc + V);
    }

    /**
     * Plain-loop fp64 reference with exactly the index semantics of {@link #matmul}: sums over k
     * in order, in double. Used by tests and the fp64 reference interpreter.
     */
    public static void matmulReference(double[] a, int aOff, boolean transA, double[] b, int bOff,
                                       boolean transB, double[] c, int cOff, int M, int N, int K,
                                       boolean accumulate) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = accumulate ? c[cOff + i * N + j] : 0.0;
                for (int k = 0; k < K; k++) {
                    double x = transA ? a[aOff + k * M + i] : a[aOff + i * K + k];
                    double y = transB ? b[bOff + j * K + k] : b[bOff + k * N + j];
                    s += x * y;
                }
                c[cOff + i * N + j] = s;
            }
        }
    }
}
