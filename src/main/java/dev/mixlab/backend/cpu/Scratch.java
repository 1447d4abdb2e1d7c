package dev.mixlab.backend.cpu;

/**
 * Per-thread scratch buffers that grow on demand and are reused across calls, so hot kernels do
 * not allocate. Slots keep independent uses apart: a caller may hold slot {@link #PARTIALS}
 * while the same thread runs chunk bodies that use the other slots.
 */
final class Scratch {
    static final int A = 0, B = 1, C = 2, D = 3, E = 4, PARTIALS = 5;
    private static final int SLOTS = 6;

    private final float[][] floats = new float[SLOTS][];
    private final double[][] doubles = new double[SLOTS][];
    private final int[][] ints = new int[SLOTS][];

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private Scratch() {}

    /** A float buffer of at least n elements (contents unspecified). */
    static float[] floats(int slot, int n) {
        Scratch s = LOCAL.get();
        float[] a = s.floats[slot];
        if (a == null || a.length < n) s.floats[slot] = a = new float[Math.max(n, 64)];
        return a;
    }

    /** A double buffer of at least n elements (contents unspecified). */
    static double[] doubles(int slot, int n) {
        Scratch s = LOCAL.get();
        double[] a = s.doubles[slot];
        if (a == null || a.length < n) s.doubles[slot] = a = new double[Math.max(n, 64)];
        return a;
    }

    /** An int buffer of at least n elements (contents unspecified). */
    static int[] ints(int slot, int n) {
        Scratch s = LOCAL.get();
        int[] a = s.ints[slot];
        if (a == null || a.length < n) s.ints[slot] = a = new int[Math.max(n, 64)];
        return a;
    }
}
