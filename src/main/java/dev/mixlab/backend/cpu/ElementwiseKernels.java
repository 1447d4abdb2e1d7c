package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.IS;
import static dev.mixlab.backend.cpu.Simd.L;
import static dev.mixlab.backend.cpu.Simd.S;

import dev.mixlab.ir.DropoutHash;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** Add, Mul, Scale, Broadcast, Reshape (copy) and Dropout over flat float ranges. */
final class ElementwiseKernels {
    private ElementwiseKernels() {}

    /** Elements per chunk for streaming ops: large enough to amortise the hand-off. */
    static final int GRAIN = 1 << 14;

    /** y = a + b or a·b where b (bn elements) repeats over a's n elements (n a multiple of bn). */
    static void binary(float[] f, int aOff, int bOff, int yOff, int n, int bn, boolean add) {
        Chunks.forRange(n, GRAIN, (from, to) -> {
            if (bn == 1) {
                FloatVector bv = FloatVector.broadcast(S, f[bOff]);
                int i = from;
                for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                    FloatVector av = FloatVector.fromArray(S, f, aOff + i);
                    (add ? av.add(bv) : av.mul(bv)).intoArray(f, yOff + i);
                }
                for (; i < to; i++) f[yOff + i] = add ? f[aOff + i] + f[bOff] : f[aOff + i] * f[bOff];
                return;
            }
            // walk segments that stay inside one repetition of b
            int i = from;
            while (i < to) {
                int j = i % bn;
                int len = Math.min(to - i, bn - j);
                segment(f, aOff + i, bOff + j, yOff + i, len, add);
                i += len;
            }
        });
    }

    private static void segment(float[] f, int ao, int bo, int yo, int len, boolean add) {
        int c = 0;
        for (int bound = S.loopBound(len); c < bound; c += L) {
            FloatVector av = FloatVector.fromArray(S, f, ao + c), bv = FloatVector.fromArray(S, f, bo + c);
            (add ? av.add(bv) : av.mul(bv)).intoArray(f, yo + c);
        }
        if (c < len) {
            VectorMask<Float> m = S.indexInRange(c, len);
            FloatVector av = FloatVector.fromArray(S, f, ao + c, m), bv = FloatVector.fromArray(S, f, bo + c, m);
            (add ? av.add(bv) : av.mul(bv)).intoArray(f, yo + c, m);
        }
    }

    /** y = x·factor (factor rounded to float once). */
    static void scale(float[] f, int xOff, int yOff, int n, double factor) {
        float s = (float) factor;
        Chunks.forRange(n, GRAIN, (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                FloatVector.fromArray(S, f, xOff + i).mul(s).intoArray(f, yOff + i);
            }
            for (; i < to; i++) f[yOff + i] = f[xOff + i] * s;
        });
    }

    /** y[n] = x[xn] repeated; n a multiple of xn. */
    static void broadcast(float[] f, int xOff, int yOff, int n, int xn) {
        if (n == 0 || xn == 0) return;
        int reps = n / xn;
        int grain = Math.max(1, GRAIN / Math.max(1, xn));
        Chunks.forRange(reps, grain, (from, to) -> {
            for (int r = from; r < to; r++) System.arraycopy(f, xOff, f, yOff + r * xn, xn);
        });
    }

    /** y[i·m + j] = x[i] for the n elements of x and j < m. */
    static void expandLast(float[] f, int xOff, int yOff, int n, int m) {
        if (n == 0) return;
        int grain = Math.max(1, GRAIN / m);
        Chunks.forRange(n, grain, (from, to) -> {
            for (int i = from; i < to; i++) java.util.Arrays.fill(f, yOff + i * m, yOff + (i + 1) * m, f[xOff + i]);
        });
    }

    /** Reshape: the output is a view when it shares the input's offset, else a copy. */
    static void copy(Object arena, int from, int to, int n) {
        if (from != to) System.arraycopy(arena, from, arena, to, n);
    }

    /** Inverted dropout with the mask of {@link DropoutHash} at element index i (vectorised hash). */
    static void dropout(float[] f, int xOff, int yOff, int n, int seed, int salt, double p) {
        int thr = DropoutHash.threshold(p);
        float keepScale = (float) (1 / (1 - p));
        int prefix = hashPrefix(seed, salt);
        IntVector iota = IntVector.zero(IS).addIndex(1);
        Chunks.forRange(n, GRAIN, (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                IntVector h = fmix(iota.add(i).lanewise(VectorOperators.XOR, prefix));   // the index's high word is 0: one round
                VectorMask<Float> keep = h.lanewise(VectorOperators.LSHR, 8).compare(VectorOperators.GE, thr).cast(S);
                FloatVector y = FloatVector.fromArray(S, f, xOff + i).mul(keepScale);
                FloatVector.zero(S).blend(y, keep).intoArray(f, yOff + i);
            }
            for (; i < to; i++) f[yOff + i] = keep(prefix, i, thr) ? f[xOff + i] * keepScale : 0f;
        });
    }

    // ---- DropoutHash, split so the per-call part is computed once ----

    static int fmix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    static IntVector fmix(IntVector h) {
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
        h = h.mul(0x85ebca6b);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13));
        h = h.mul(0xc2b2ae35);
        return h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
    }

    /** The part of {@link DropoutHash#hash} that depends only on seed and salt. */
    static int hashPrefix(int seed, int salt) {
        return fmix(fmix(seed ^ 0x9e3779b9) ^ salt * 0x27d4eb2f);
    }

    /** Same as {@link DropoutHash#keep} given {@link #hashPrefix}. */
    static boolean keep(int prefix, long index, int threshold) {
        int h = fmix(prefix ^ (int) index), hi = (int) (index >>> 32);
        if (hi != 0) h = fmix(h ^ hi * 0x165667b1);
        return (h >>> 8) >= threshold;
    }
}
