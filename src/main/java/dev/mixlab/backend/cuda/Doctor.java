package dev.mixlab.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * What the CUDA side of this machine offers, as lines for {@code mixlab doctor}: the driver, each
 * GPU, NVRTC, cuBLAS and whether the kernels compile. A missing piece is one line naming what to
 * install; nothing here throws.
 */
public final class Doctor {
    private Doctor() {}

    /** A line of the report; {@code ok} false marks a problem. */
    public record Line(boolean ok, String text) {}

    public static List<Line> check() {
        List<Line> out = new ArrayList<>();
        Driver d;
        try {
            d = Driver.get();
            int v = d.version();
            out.add(new Line(true, "CUDA driver: API " + v / 1000 + "." + v % 1000 / 10));
        } catch (CudaException | UnsatisfiedLinkError e) {
            out.add(new Line(false, "CUDA: " + e.getMessage()));
            return out;
        }
        int n = d.deviceCount();
        if (n == 0) {
            out.add(new Line(false, "GPU: the driver sees no CUDA device"));
            return out;
        }
        int first = -1;
        for (int i = 0; i < n; i++) {
            int dev = d.device(i);
            if (first < 0) first = dev;
            out.add(new Line(true, String.format("GPU %d: %s, sm_%d%d, %.1f GiB", i, d.name(dev), d.attribute(dev, 75),
                    d.attribute(dev, 76), d.totalMem(dev) / 1073741824.0)));
        }
        try {
            out.add(new Line(true, "NVRTC " + Nvrtc.get().version()));
        } catch (CudaException | UnsatisfiedLinkError e) {
            out.add(new Line(false, "NVRTC: " + e.getMessage()));
            return out;
        }
        try {
            d.context(first);
            int arch = d.attribute(first, 75) * 10 + d.attribute(first, 76);
            KernelCache.Loaded m = KernelCache.load(d, arch);
            out.add(new Line(true, "kernels: " + (m.cached() ? "loaded from the cache " + KernelCache.dir()
                    : String.format("compiled for sm_%d in %.1f s, cached in %s", arch, m.compileSeconds(), KernelCache.dir()))));
            long ws = d.malloc(1 << 20);
            Cublas blas = new Cublas(d, d.stream(), ws, 1 << 20, Cublas.Precision.fromProperties());
            out.add(new Line(true, "cuBLAS: loaded, handle created; products in " + blas.precision
                    + " (-Dmixlab.cuda.matmul=tf32|bf16|fp32)"));
        } catch (CudaException | UnsatisfiedLinkError e) {
            out.add(new Line(false, e.getMessage()));
        }
        return out;
    }
}
