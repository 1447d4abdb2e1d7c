package dev.mixlab.ir;

import java.util.List;

/**
 * Scatters expert outputs back to tokens: {@code (yg[R,D], slot[N,K] i32, gates[N,K]?) -> y[N,D]}
 * with {@code y[n] = Σ_k gates[n,k]·yg[slot[n,k]]} over the kept assignments (gates 1 when absent),
 * summed in k order. Its adjoint is {@link MoeDispatch}.
 */
public record MoeCombine() implements Op {
    public String name() {
        return "moe_combine";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Shape yg = MoeDispatch.checkSlots(this, in);
        if (yg.rank() != 2) throw Op.mismatch(this, in, "yg must be [R,D]");
        return List.of(TensorType.f32(in.get(1).shape().dim(0), yg.dim(1)));
    }

    public long flops(List<TensorType> in) {
        return 2 * in.get(1).shape().size() * in.get(0).shape().last();
    }
}
