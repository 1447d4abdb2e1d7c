package dev.mixlab.cli;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;

/** Maps {@code --device} to a backend. */
final class Devices {
    private Devices() {}

    static Backend backend(String device) {
        return switch (device) {
            case "cpu" -> new CpuBackend();
            case "reference" -> new ReferenceBackend();
            case "cuda", "gpu" -> throw new UserException("--device " + device
                    + ": the CUDA backend is not built yet (tracked in the CUDA issue); use --device cpu");
            default -> throw new UserException("--device " + device + ": unknown device; use cpu or reference");
        };
    }
}
