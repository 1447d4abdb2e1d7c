package dev.mixlab.ir;

import java.util.List;

/**
 * Matrix product {@code C = op(A) · op(B)} where each operand is read as a row-major 2-D matrix
 * by flattening all leading dimensions. Without transposes, {@code A[...,K] · B[K,N] -> [...,N]}
 * keeps A's leading dimensions; a linear layer is {@code matmul(x, W, transB=true)} with W stored
 * {@code [out,in]}. With {@code transA}, A is stored {@code [K,M]} and the result is {@code [M,N]}.
 */
public record MatMul(boolean transA, boolean transB) implements Op {
    public String name() {
        return "matmul";
    }

    /** Rows and columns of the stored operand flattened to 2-D. */
    static long rows(Shape s) {
        return s.leadingSize();
    }

    public List<TensorType> infer(List<TensorType> in) {
        Op.arity(this, in, 2);
        Op.floats(this, in, 0, 1);
        Shape a = in.get(0).shape(), b = in.get(1).shape();
        if (a.rank() < 1 || b.rank() < 1) throw Op.mismatch(this, in, "operands must have rank >= 1");
        long k = transA ? rows(a) : a.last();
        long kb = transB ? b.last() : rows(b);
        if (k != kb) throw Op.mismatch(this, in, "inner dimensions differ: " + k + " vs " + kb);
        int n = Math.toIntExact(transB ? rows(b) : b.last());
        Shape out = transA ? Shape.of(a.last(), n) : a.withLast(n);
        return List.of(TensorType.f32(out));
    }

    /** M, N, K of this product for these inputs. */
    public long[] mnk(List<TensorType> in) {
        Shape a = in.get(0).shape(), b = in.get(1).shape();
        long m = transA ? a.last() : rows(a);
        long k = transA ? rows(a) : a.last();
        long n = transB ? rows(b) : b.last();
        return new long[] {m, n, k};
    }

    public long flops(List<TensorType> in) {
        long[] mnk = mnk(in);
        return 2 * mnk[0] * mnk[1] * mnk[2];
    }

    public String attrs() {
        return (transA ? "transA " : "") + (transB ? "transB" : "");
    }
}
