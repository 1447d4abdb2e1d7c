package dev.mixlab.ir;

import java.util.List;

/**
 * An IR operation: a pure function of its inputs with a static shape rule and a FLOP count.
 * The family is closed so that autodiff and every backend handle each op in an exhaustive
 * {@code switch}: a new op that misses a vector-Jacobian rule or a kernel does not compile.
 *
 * <p>Ops marked not {@link #differentiable()} are the backward and optimizer ops autodiff
 * emits; they are exercised by the gradient checks of the forward ops that emit them.
 */
public sealed interface Op permits Embedding, EmbeddingGrad, MatMul, Add, Mul, Scale, Broadcast, ReduceTo, ExpandLast, SumLast, PadLast, SliceLast,
        Unary, UnaryGrad, LayerNorm, LayerNormGrad, RmsNorm, RmsNormGrad, Attention, AttentionGrad, Rope,
        Dropout, Reshape, CrossEntropy, CrossEntropyGrad, SumSquares, GradClip, AdamW, Sgd, NesterovMomentum, FrobeniusNormalize, Descend, PositionIds, KvWrite,
        CachedAttention, MoeRoute, MoeGate, MoeGateGrad, MoeDispatch, MoeCombine, MoeRowDot, GroupedMatMul,
        GroupedMatMulWGrad, BiasBalance, SwapAxes,
        Retention, RetentionGrad, Mlstm, MlstmGrad, Wkv, WkvGrad, TokenShift,
        CausalConv, CausalConvGrad, GatedDeltaScan, GatedDeltaScanGrad, SsdScan, SsdScanGrad {

    /** Short lower-case name used by the printer and in messages. */
    String name();

    /** Output types for these input types; throws {@link IrException} naming the op and shapes on mismatch. */
    List<TensorType> infer(List<TensorType> in);

    /** Floating-point operations (multiply and add count as two) for these input types. */
    long flops(List<TensorType> in);

    /** Whether autodiff can propagate through this op. */
    default boolean differentiable() {
        return true;
    }

    /**
     * For each output, the index of the input whose buffer it overwrites in place, or -1.
     * Only optimizer updates alias; nothing may read the aliased input afterwards.
     */
    default int[] aliases() {
        return new int[0];
    }

    /** Attributes for printing, e.g. {@code transB=true}. */
    default String attrs() {
        return "";
    }

    // ---- helpers for shape rules ----

    static IrException mismatch(Op op, List<TensorType> in, String why) {
        return new IrException(op.name() + ": " + why + " (inputs " + in + ")");
    }

    static void arity(Op op, List<TensorType> in, int n) {
        if (in.size() != n) throw mismatch(op, in, "expects " + n + " inputs, got " + in.size());
    }

    static void floats(Op op, List<TensorType> in, int... idx) {
        for (int i : idx) {
            if (!in.get(i).dtype().isFloat()) throw mismatch(op, in, "input " + i + " must be a float tensor");
        }
    }

    static void ints(Op op, List<TensorType> in, int idx) {
        if (in.get(idx).dtype() != DType.I32) throw mismatch(op, in, "input " + idx + " must be i32");
    }

    static void scalar(Op op, List<TensorType> in, int idx) {
        if (in.get(idx).shape().size() != 1) throw mismatch(op, in, "input " + idx + " must be a scalar");
    }

    static void same(Op op, List<TensorType> in, int a, int b) {
        if (!in.get(a).shape().equals(in.get(b).shape())) {
            throw mismatch(op, in, "inputs " + a + " and " + b + " must have the same shape");
        }
    }
}
