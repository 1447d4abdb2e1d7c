package dev.mixlab.ir;

/** How a parameter or state tensor is initialised. The host fills it from the run's seeded generator. */
public sealed interface Init {
    record Normal(double std) implements Init {}

    record Constant(double value) implements Init {}

    /** Evenly spaced from {@code from} (first element) to {@code to} (last), as {@code torch.linspace}. */
    record Linspace(double from, double to) implements Init {}

    /** {@code log(j + 1)} for index j along the last axis of size {@code n}, every row alike (Mamba's S4D-real A_log). */
    record LogArange(int n) implements Init {}

    static Init normal(double std) {
        return new Normal(std);
    }

    static Init zeros() {
        return new Constant(0);
    }

    static Init constant(double value) {
        return new Constant(value);
    }

    static Init linspace(double from, double to) {
        return new Linspace(from, to);
    }

    static Init logArange(int n) {
        return new LogArange(n);
    }

    static Init ones() {
        return new Constant(1);
    }
}
