package dev.mixlab.backend;

import dev.mixlab.ir.Program;

/** Something that can execute IR programs: the CPU engine, the float64 reference, CUDA. */
public interface Backend {
    /** Short name shown to users, e.g. {@code cpu}. */
    String name();

    /** One line about the hardware and the implementation choices, for logs. */
    String describe();

    Executable compile(Program p);

    /**
     * This backend with its numerics kept float32 throughout when {@code on} (a config's
     * {@code training.precision: fp32}); backends that compute in float32 anyway return themselves.
     */
    default Backend float32(boolean on) {
        return this;
    }
}
