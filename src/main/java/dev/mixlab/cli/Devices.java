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
            case "cuda", "gpu" -> {
                try {
                    yield new dev.mixlab.backend.cuda.CudaBackend();
                } catch (dev.mixlab.backend.cuda.CudaException e) {
                    throw new UserException("--device cuda: " + e.getMessage());
                }
            }
            default -> throw new UserException("--device " + device + ": unknown device; use cpu, cuda or reference");
        };
    }
}
