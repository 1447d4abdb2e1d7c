package dev.mixlab.ir;

/** How a parameter or state tensor is initialised. The host fills it from the run's seeded generator. */
public sealed interface Init {
    record Normal(double std) implements Init {}

    record Constant(double value) implements Init {}

    /**
     * Evenly spaced values from {@code from} (first element) to {@code to} (last element), the same
     * for every seed: per-head decay rates and step sizes spread over a range (Mamba's A and dt).
     */
    record Ramp(double from, double to) implements Init {}

    static Init normal(double std) {
        return new Normal(std);
    }

    static Init zeros() {
        return new Constant(0);
    }

    static Init constant(double value) {
        return new Constant(value);
    }

    static Init ones() {
        return new Constant(1);
    }
}
