package dev.mixlab.ir;

import java.util.List;

/**
 * Writes new keys or values into a cache in place: {@code (cache[B,Tmax,KV,hd], x[B,S,KV,hd], pos)
 * -> cache'} with rows {@code pos..pos+S-1} replaced. Rows past {@code Tmax} are an error.
 */
public record KvWrite() implements Op {
    public String name() {
        return "kv_write";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 3);
        Op.floats(this, in, 0, 1);
        Op.ints(this, in, 2);
        Op.scalar(this, in, 2);
        Shape c = in.get(0).shape(), x = in.get(1).shape();
        if (c.rank() != 4 || x.rank() != 4 || c.dim(0) != x.dim(0) || c.dim(2) != x.dim(2) || c.dim(3) != x.dim(3)
                || x.dim(1) > c.dim(1)) {
            throw Op.mismatch(this, in, "cache must be [B,Tmax,KV,hd] and x [B,S<=Tmax,KV,hd]");
        }
        return List.of(in.get(0));
    }

    public long flops(List<TensorType> in) {
        return 0;
    }

    public boolean differentiable() {
        return false;
    }

    public int[] aliases() {
        return new int[] {0};
    }
}
