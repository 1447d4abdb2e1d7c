package dev.mixlab.ir;

import java.util.List;

/** {@code pos -> [pos, pos+1, ..., pos+count-1]} (i32): the positions of tokens fed at offset pos. */
public record PositionIds(int count) implements Op {
    public String name() {
        return "position_ids";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 1);
        Op.ints(this, in, 0);
        Op.scalar(this, in, 0);
        return List.of(TensorType.i32(Shape.of(count)));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "count=" + count;
    }
}
