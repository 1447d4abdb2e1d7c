package dev.mixlab.ir;

import java.util.List;

/**
 * The gradient of {@link SsdScan}: {@code (x, a, Bm, C, dy) -> (dx, da, dBm, dC)}: a forward pass for
 * y and dC, a reverse pass for the state's adjoint, dx and dBm; {@code da_t = Σ_{s≥t} (dy_s·y_s − x_s·dx_s)}
 * (the scalar-decay identity, so no state is stored).
 */
public record SsdScanGrad() implements Op {
    public String name() {
        return "ssd_scan_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 5);
        new SsdScan(false).infer(in.subList(0, 4));
        Op.floats(this, in, 4);
        Op.same(this, in, 0, 4);
        return List.of(in.get(0), in.get(1), in.get(2), in.get(3));
    }

    public long flops(List<TensorType> in) {
        return 2 * new SsdScan(false).flops(in) + 4 * in.get(0).shape().size() * in.get(2).shape().dim(3);
    }

    public boolean differentiable() {
        return false;
    }
}
