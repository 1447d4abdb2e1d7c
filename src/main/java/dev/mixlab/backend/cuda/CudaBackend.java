package dev.mixlab.backend.cuda;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.ir.Program;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * The CUDA backend: FFM to the driver API, NVRTC and cuBLAS; one device arena planned from the IR;
 * the whole program captured as one CUDA graph after its first run and replayed afterwards.
 * float32 storage; products on TF32 tensor cores by default (see Cublas.Precision).
 */
public final class CudaBackend implements Backend {
    final Driver driver;
    final int device;
    final MemorySegment context;
    final int arch;
    /** Streaming multiprocessors, for kernels that size their grids to fill the GPU. */
    final int multiprocessors;
    final String name;
    final KernelCache.Loaded module;
    private final Map<String, MemorySegment> functions;
    /** Float32 throughout (the config's {@code training.precision: fp32}, or {@code -Dmixlab.cuda.fp32=true}). */
    private final boolean fp32;

    public CudaBackend() {
        driver = Driver.get();
        device = driver.device(Integer.getInteger("mixlab.cuda.device", 0));
        context = driver.context(device);
        arch = driver.attribute(device, 75) * 10 + driver.attribute(device, 76);
        multiprocessors = driver.attribute(device, 16);     // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
        name = driver.name(device);
        module = KernelCache.load(driver, arch);
        functions = new HashMap<>();
        fp32 = false;
    }

    /** The same device, context and kernels with other numerics. */
    private CudaBackend(CudaBackend base, boolean fp32) {
        driver = base.driver;
        device = base.device;
        context = base.context;
        arch = base.arch;
        multiprocessors = base.multiprocessors;
        name = base.name;
        module = base.module;
        functions = base.functions;
        this.fp32 = fp32;
    }

    @Override
    public CudaBackend float32(boolean on) {
        return on == fp32 ? this : new CudaBackend(this, on);
    }

    /** How this backend's products and attention compute. */
    Cublas.Precision precision() {
        return fp32 ? Cublas.Precision.FP32 : Cublas.Precision.fromProperties();
    }

    /** Null when a CUDA driver and at least one GPU are present; otherwise why not, in one line. */
    public static String unavailable() {
        try {
            return Driver.get().deviceCount() > 0 ? null : "the driver sees no CUDA device";
        } catch (CudaException | UnsatisfiedLinkError e) {
            return e.getMessage();
        }
    }

    public String name() {
        return "cuda";
    }

    public String describe() {
        return String.format("cuda: %s (sm_%d), %s, kernels %s", name, arch, precisionText(),
                module.cached() ? "from cache" : String.format("compiled in %.1f s", module.compileSeconds()));
    }

    synchronized MemorySegment function(String n) {
        return functions.computeIfAbsent(n, k -> driver.function(module.module(), k));
    }

    public Executable compile(Program p) {
        driver.setCurrent(context);
        return new CudaExecutable(this, p);
    }

    /** The numerics a run gets, for the run header. */
    String precisionText() {
        Cublas.Precision p = precision();
        return switch (p) {
            case FP32 -> "float32 throughout";
            case TF32 -> "float32 storage, tf32 products, bf16 attention";
            case BF16 -> "bf16 products (bf16 operands, float32 accumulation), bf16 attention, float32 elsewhere";
        };
    }
}
