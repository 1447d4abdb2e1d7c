package dev.mixlab.backend.cpu;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.ir.Program;
import jdk.incubator.vector.FloatVector;

/** The CPU engine: float32 Vector API kernels over one planned arena, parallel across cores. */
public final class CpuBackend implements Backend {
    public String name() {
        return "cpu";
    }

    public String describe() {
        return "cpu: " + Parallel.threads() + " threads, float32, Vector API "
                + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit ("
                + FloatVector.SPECIES_PREFERRED.length() + " lanes)";
    }

    public Executable compile(Program p) {
        return new CpuExecutable(p);
    }
}
