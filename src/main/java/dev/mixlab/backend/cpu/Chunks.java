package dev.mixlab.backend.cpu;

/**
 * The kernels' door to {@link Parallel}: same chunk boundaries, plus a switch that runs every
 * chunk inline in chunk order so tests can prove results do not depend on the thread count.
 */
final class Chunks {
    private Chunks() {}

    /** When true every kernel runs single-threaded (tests only). */
    static volatile boolean serial = false;

    static void forRange(int n, int grain, Parallel.RangeBody body) {
        if (n <= 0) return;
        if (serial) {
            int g = Math.max(1, grain);
            for (int from = 0; from < n; from += g) body.run(from, Math.min(n, from + g));
        } else {
            Parallel.forRange(n, grain, body);
        }
    }

    static int count(int n, int grain) {
        return Parallel.chunks(n, grain);
    }
}
