package dev.mixlab.ir;

import java.util.List;

/** Scatter-add of row gradients: {@code (ids[...] i32, dy[...,D]) -> dtable[vocab,D]}. */
public record EmbeddingGrad(int vocab) implements Op {
    public String name() {
        return "embedding_grad";
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.ints(this, in, 0);
        Op.floats(this, in, 1);
        Shape ids = in.get(0).shape(), dy = in.get(1).shape();
        if (dy.rank() != ids.rank() + 1 || !dy.slice(0, ids.rank()).equals(ids)) {
            throw Op.mismatch(this, in, "dy must be ids.shape + [D]");
        }
        return List.of(TensorType.f32(vocab, dy.last()));
    }

    public long flops(List<TensorType> in) {
        return in.get(1).shape().size();
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "vocab=" + vocab;
    }
}
