package dev.mixlab.backend;

import dev.mixlab.ir.Program;

/**
 * A program compiled for one backend, with its own memory. Leaves (inputs, parameters, state) are
 * set by name before {@link #run()}; parameters and state persist across runs, so a training step
 * program updates its weights in place run after run.
 */
public interface Executable extends AutoCloseable {
    Program program();

    /** Copies {@code data} into the float input, parameter or state named {@code name}. */
    void setFloats(String name, float[] data);

    /** Sets a float leaf from doubles; backends that compute in float32 round them. */
    default void setDoubles(String name, double[] data) {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        setFloats(name, f);
    }

    /** A float leaf or output as doubles (exact on the float64 reference backend). */
    default double[] getDoubles(String name) {
        float[] f = getFloats(name);
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }

    /** Copies {@code data} into the i32 input named {@code name}. */
    void setInts(String name, int[] data);

    /** A copy of a float leaf or output. */
    float[] getFloats(String name);

    /** The first element of a float output (losses, norms). */
    default float scalar(String output) {
        return getFloats(output)[0];
    }

    /** A scalar output whose value is fetched when asked for (see {@link #scalarLater}). */
    @FunctionalInterface
    interface PendingScalar {
        float get();
    }

    /**
     * The scalar {@code output} of the run just queued, read back without waiting for it now: a GPU
     * backend queues the copy and waits only when {@link PendingScalar#get} is called, so the host can
     * prepare the next step meanwhile. Backends that run synchronously read it at once.
     */
    default PendingScalar scalarLater(String output) {
        float v = scalar(output);
        return () -> v;
    }

    /**
     * Turns per-op timing on or off. When on, {@link #profile()} accumulates wall time per op name;
     * backends that cannot time ops ignore it.
     */
    default void setProfiling(boolean on) {}

    /** Accumulated {@code {nanoseconds, calls}} per op name since profiling was turned on. */
    default java.util.Map<String, long[]> profile() {
        return java.util.Map.of();
    }

    /** Accelerator memory this executable holds, in bytes (0 on the CPU). */
    default long deviceBytes() {
        return 0;
    }

    /** Executes the program once. */
    void run();

    @Override
    default void close() {}
}
