package dev.mixlab.ir;

/**
 * The counter-based hash that defines every dropout mask. It is part of the IR's semantics, so
 * all backends compute the identical mask: a 32-bit finaliser (murmur3's) over seed, salt and the
 * element index. Keep it in sync with the CUDA kernels.
 */
public final class DropoutHash {
    private DropoutHash() {}

    static int fmix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    /**
     * Uniform 32-bit hash of (seed, salt, index). The high word of the index takes a round only where
     * it is not zero: an index below 2³² (every mask but that of attention over more than 2³² scores)
     * costs one round per element, which is most of the per-score work of dropout in the GPU's
     * attention kernels.
     */
    public static int hash(int seed, int salt, long index) {
        int h = fmix(seed ^ 0x9e3779b9);
        h = fmix(h ^ salt * 0x27d4eb2f);
        h = fmix(h ^ (int) index);
        int hi = (int) (index >>> 32);
        return hi == 0 ? h : fmix(h ^ hi * 0x165667b1);
    }

    /** Threshold such that an element is kept when {@code hash >>> 8 >= threshold} (24-bit uniform). */
    public static int threshold(double p) {
        return (int) Math.round(p * (1 << 24));
    }

    /** Whether element {@code index} survives dropout with probability p. */
    public static boolean keep(int seed, int salt, long index, int threshold) {
        return (hash(seed, salt, index) >>> 8) >= threshold;
    }
}
