package dev.mixlab.data;

/**
 * The splitmix64 generator: tiny, fast, and its whole state is one {@code long}, so a training
 * run can save it in a checkpoint and resume the exact same data order. Not thread-safe.
 */
public final class SplitMix64 {
    private long state;

    /** A generator whose first output depends only on {@code seed}. */
    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** Next 64 uniformly random bits. */
    public long next() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform double in {@code [0, 1)} from the top 53 bits. */
    public double nextDouble() {
        return (next() >>> 11) * 0x1.0p-53;
    }

    /** Uniform int in {@code [0, bound)}, without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        return (int) nextLong(bound);
    }

    /**
     * Uniform long in {@code [0, bound)}, without modulo bias: draws of 63 bits that fall in the
     * incomplete last block of {@code bound} values are rejected and redrawn.
     */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long m = bound - 1;
        long r = next() >>> 1;
        if ((bound & m) == 0) {
            return r & m; // power of two: low bits are exactly uniform
        }
        // u - r is the start of u's block; if that block overflows past 2^63 it is incomplete.
        for (long u = r; u - (r = u % bound) + m < 0; u = next() >>> 1) {
            // redraw
        }
        return r;
    }

    /** The whole state; {@link #restore} with it continues the same sequence. */
    public long state() {
        return state;
    }

    /** Continues from a value {@link #state()} returned. */
    public void restore(long state) {
        this.state = state;
    }
}
