package dev.mixlab.ir;

import java.util.List;

/**
 * Top-k routing of N tokens over E experts into a grouped row buffer:
 * {@code (logits[N,E], bias[E]?) -> (slot[N,K] i32, sel[N,K] i32, offsets[E+1] i32, load[E], dropped[])}.
 *
 * <p>Each token's affinities are softmax(logits) over the experts ({@code sigmoid=false}) or
 * sigmoid(logits) ({@code sigmoid=true}); the K experts with the largest affinity + bias (the bias
 * only steers the choice, DeepSeek-V3's auxiliary-loss-free balancing) are {@code sel[n,0..K-1]},
 * by descending score, ties to the lower expert index. The assignments are grouped by expert, in
 * token order within an expert: expert e owns rows {@code offsets[e] .. offsets[e+1]-1} of a
 * buffer of {@code rows} rows, and {@code slot[n,k]} is the row of assignment (n, sel[n,k]).
 * With {@code capacity > 0} an expert keeps only the first {@code capacity} tokens (in token
 * order) that chose it; a later one is dropped ({@code slot = -1}: it contributes nothing for that
 * expert). {@code load[e]} counts the tokens that chose e (before dropping), {@code dropped} the
 * dropped assignments. Rows from {@code offsets[E]} on are unused. Not differentiable: the choice
 * is piecewise constant; gradients reach the router through {@link MoeGate}.
 *
 * @param rows the static row-buffer size: N·K without a capacity, else min(N·K, E·capacity)
 */
public record MoeRoute(int experts, int topK, boolean sigmoid, int capacity, int rows) implements Op {
    public String name() {
        return "moe_route";
    }

    /** The row-buffer size for N tokens: every assignment without a capacity, else what the experts can keep. */
    public static int rows(int tokens, int experts, int topK, int capacity) {
        long all = (long) tokens * topK;
        return Math.toIntExact(capacity > 0 ? Math.min(all, (long) experts * capacity) : all);
    }

    public List<TensorType> infer(List<TensorType> in) {
        if (in.size() != 1 && in.size() != 2) throw Op.mismatch(this, in, "expects logits and an optional bias");
        Op.floats(this, in, 0);
        Shape l = in.get(0).shape();
        if (l.rank() != 2 || l.dim(1) != experts) throw Op.mismatch(this, in, "logits must be [N," + experts + "]");
        if (topK < 1 || topK > experts) throw Op.mismatch(this, in, "top_k " + topK + " must be in 1.." + experts);
        if (in.size() == 2) {
            Op.floats(this, in, 1);
            if (!in.get(1).shape().equals(Shape.of(experts))) throw Op.mismatch(this, in, "bias must be [" + experts + "]");
        }
        if (capacity < 0 || rows != rows(l.dim(0), experts, topK, capacity)) {
            throw Op.mismatch(this, in, "rows " + rows + " must be " + rows(l.dim(0), experts, topK, Math.max(0, capacity)));
        }
        Shape nk = Shape.of(l.dim(0), topK);
        return List.of(TensorType.i32(nk), TensorType.i32(nk), TensorType.i32(Shape.of(experts + 1)),
                TensorType.f32(Shape.of(experts)), TensorType.f32(Shape.SCALAR));
    }

    public long flops(List<TensorType> in) {
        return 4 * in.get(0).shape().size() + (long) in.get(0).shape().dim(0) * topK * experts;
    }

    public boolean differentiable() {
        return false;
    }

    public String attrs() {
        return "experts=" + experts + " top_k=" + topK + (sigmoid ? " sigmoid" : " softmax")
                + (capacity > 0 ? " capacity=" + capacity : "") + " rows=" + rows;
    }
}
