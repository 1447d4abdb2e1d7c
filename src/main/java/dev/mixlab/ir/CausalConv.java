package dev.mixlab.ir;

import java.util.List;

/**
 * Depthwise causal 1-D convolution over time (the short convolution of Mamba-2 and Gated DeltaNet):
 * {@code (x[B,T,C], w[C,K]) -> y[B,T,C]} with {@code y[b,t,c] = Σ_j w[c,j]·x[b,t-K+1+j,c]}, rows before
 * the start read as zero (PyTorch's {@code conv1d(groups=C, padding=K-1)} truncated to T).
 *
 * <p>With {@code cached} (incremental decoding) the op takes two more inputs, {@code state[B,K-1,C]}
 * (the K-1 inputs before this call, read as zeros when {@code pos == 0}) and {@code pos} (i32
 * scalar), and has a second output: the state after the call, written in place of {@code state}.
 */
public record CausalConv(boolean cached) implements Op {
    public String name() {
        return cached ? "causal_conv_cached" : "causal_conv";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, cached ? 4 : 2);
        Op.floats(this, in, 0, 1);
        Shape x = in.get(0).shape(), w = in.get(1).shape();
        if (x.rank() != 3 || w.rank() != 2 || w.dim(0) != x.dim(2)) throw Op.mismatch(this, in, "x must be [B,T,C] and w [C,K]");
        if (!cached) return List.of(in.get(0));
        Op.floats(this, in, 2);
        Op.ints(this, in, 3);
        Op.scalar(this, in, 3);
        if (!in.get(2).shape().equals(Shape.of(x.dim(0), w.dim(1) - 1, x.dim(2)))) {
            throw Op.mismatch(this, in, "state must be [B,K-1,C]");
        }
        return List.of(in.get(0), in.get(2));
    }

    public long flops(List<TensorType> in) {
        return 2 * in.get(0).shape().size() * in.get(1).shape().dim(1);
    }

    public boolean differentiable() {
        return !cached;
    }

    public int[] aliases() {
        return cached ? new int[] {-1, 2} : new int[0];
    }
}
