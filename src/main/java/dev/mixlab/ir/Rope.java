package dev.mixlab.ir;

import java.util.List;

/**
 * Rotary position embedding on {@code x[B,T,H,hd]}: the first {@code dims} channels of each head
 * are rotated by angle {@code t·base^(-2j/dims)}. {@code interleaved=false} pairs channel j with
 * j+dims/2 (half rotation, as GPT-NeoX/Llama); {@code true} pairs 2j with 2j+1. {@code inverse}
 * rotates backwards, which is also the op's vector-Jacobian product. An optional second input
 * {@code pos} (i32 scalar) offsets the positions: row t has position {@code pos + t} (incremental
 * decoding). With {@code period > 0} positions restart every {@code period} rows: row t rotates by
 * position {@code (pos + t) mod period} (chunked attention's per-chunk positions, {@link AttnMask}).
 */
public record Rope(double base, int dims, boolean interleaved, boolean inverse, int period) implements Op {
    /** Positions never restart. */
    public Rope(double base, int dims, boolean interleaved, boolean inverse) {
        this(base, dims, interleaved, inverse, 0);
    }

    public Rope {
        if (period < 0) throw new IllegalArgumentException("rope period " + period + " < 0");
    }

    public String name() {
        return inverse ? "rope_inverse" : "rope";
    }

    public List<TensorType> infer(List<TensorType> in) {
        if (in.size() != 1 && in.size() != 2) throw Op.mismatch(this, in, "expects x and an optional position");
        Op.floats(this, in, 0);
        if (in.size() == 2) {
            Op.ints(this, in, 1);
            Op.scalar(this, in, 1);
        }
        Shape x = in.get(0).shape();
        if (x.rank() != 4) throw Op.mismatch(this, in, "x must be [B,T,H,hd]");
        if (dims <= 0 || dims % 2 != 0 || dims > x.dim(3)) {
            throw Op.mismatch(this, in, "rotated dims " + dims + " must be even and <= head dim " + x.dim(3));
        }
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        Shape x = in.get(0).shape();
        return 3 * x.leadingSize() * dims;
    }

    public String attrs() {
        return "base=" + base + " dims=" + dims + (interleaved ? " interleaved" : " half") + (period > 0 ? " period=" + period : "");
    }
}
