package dev.mixlab.ir;

import java.util.List;

/**
 * RWKV's token shift on {@code x[B,T,D]}: {@code y_t = x_{t−1}} with {@code y_0 = 0}; {@code reverse}
 * shifts the other way ({@code y_t = x_{t+1}}, {@code y_{T−1} = 0}), which is also the adjoint.
 *
 * <p>{@code stateful} (forward only) is the decoding form: two more inputs {@code state[B,D]} (the
 * last row of the previous call) and {@code pos} (i32 scalar); {@code y_0} is the state (zero when
 * {@code pos == 0}) and the second output, written in place, is {@code x_{T−1}}.
 */
public record TokenShift(boolean reverse, boolean stateful) implements Op {
    public TokenShift {
        if (reverse && stateful) throw new IllegalArgumentException("token_shift: the decoding form shifts forward only");
    }

    /** The training form: x_{t−1}. */
    public TokenShift() {
        this(false, false);
    }

    public String name() {
        return stateful ? "token_shift_step" : reverse ? "token_shift_reverse" : "token_shift";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, stateful ? 3 : 1);
        Op.floats(this, in, 0);
        Shape x = in.get(0).shape();
        if (x.rank() != 3) throw Op.mismatch(this, in, "x must be [B,T,D]");
        if (!stateful) return List.of(in.get(0));
        ScanShapes.is(this, in, 1, Shape.of(x.dim(0), x.dim(2)), "state");
        ScanShapes.position(this, in, 2);
        return List.of(in.get(0), in.get(1));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public boolean differentiable() {
        return !stateful;
    }

    public int[] aliases() {
        return stateful ? new int[] {-1, 1} : new int[0];
    }
}
