package dev.mixlab.backend.cpu;

import dev.mixlab.ir.*;

/**
 * The float32 CPU kernels: one entry point that dispatches a node to its kernel. Kernels
 * vectorise with the Vector API, split work with {@link Parallel} so that every output element
 * is written by one chunk (or reduce per-chunk partials in chunk order), and give bit-identical
 * results for any thread count.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /**
     * Runs node n. Float values live in the arena f, i32 values in the arena ints; inOff[k]/outOff[k]
     * are the element offsets of input k / output k in the arena matching its dtype. Outputs of
     * in-place ops (aliases()) have outOff equal to the aliased input's offset. Outputs never overlap
     * inputs otherwise.
     */
    public static void run(Node n, float[] f, int[] ints, int[] inOff, int[] outOff) {
        Shape x0 = n.input(0).shape();
        int n0 = x0.intSize();
        switch (n.op()) {
            case Embedding e -> {
                Shape table = n.input(0).shape();
                EmbeddingKernels.embedding(f, ints, inOff[0], inOff[1], outOff[0], n.input(1).shape().intSize(),
                        table.dim(0), table.dim(1));
            }
            case EmbeddingGrad e -> {
                Shape dy = n.input(1).shape();
                EmbeddingKernels.embeddingGrad(f, ints, inOff[0], inOff[1], outOff[0], n0, e.vocab(), dy.last());
            }
            case dev.mixlab.ir.MatMul m -> {
                long[] mnk = m.mnk(n.inputTypes());
                MatMul.matmul(f, inOff[0], m.transA(), f, inOff[1], m.transB(), f, outOff[0],
                        Math.toIntExact(mnk[0]), Math.toIntExact(mnk[1]), Math.toIntExact(mnk[2]), false);
            }
            case Add a -> ElementwiseKernels.binary(f, inOff[0], inOff[1], outOff[0], n0, n.input(1).shape().intSize(), true);
            case Mul a -> ElementwiseKernels.binary(f, inOff[0], inOff[1], outOff[0], n0, n.input(1).shape().intSize(), false);
            case Scale s -> ElementwiseKernels.scale(f, inOff[0], outOff[0], n0, s.factor());
            case Broadcast b -> ElementwiseKernels.broadcast(f, inOff[0], outOff[0], b.shape().intSize(), n0);
            case ReduceTo r -> ReduceKernels.reduceTo(f, inOff[0], outOff[0], n0, r.shape().intSize());
            case ExpandLast e -> ElementwiseKernels.expandLast(f, inOff[0], outOff[0], n0, e.n());
            case SumLast s -> ReduceKernels.sumLast(f, inOff[0], outOff[0], rows(x0), x0.last());
            case PadLast pl -> {
                int r = x0.dim(x0.rank() - 2);
                LastAxisKernels.pad(f, inOff[0], outOff[0], n0 / (r * x0.last()), r, x0.last(), pl.rows(), pl.start(), pl.total());
            }
            case SliceLast sl -> {
                int r = x0.dim(x0.rank() - 2);
                LastAxisKernels.slice(f, inOff[0], outOff[0], n0 / (r * x0.last()), r, x0.last(), sl.rows(), sl.start(), sl.len());
            }
            case Unary u -> UnaryKernels.forward(u.fn(), f, inOff[0], outOff[0], n0);
            case UnaryGrad u -> UnaryKernels.backward(u.fn(), f, inOff[0], inOff[1], outOff[0], n0);
            case LayerNorm ln -> {
                int w = ln.weight() ? inOff[1] : -1, b = ln.bias() ? inOff[ln.weight() ? 2 : 1] : -1;
                NormKernels.layerNorm(f, inOff[0], w, b, outOff[0], rows(x0), x0.last(), ln.eps());
            }
            case LayerNormGrad g -> {
                int w = g.weight() ? inOff[1] : -1, dy = inOff[inOff.length - 1];
                int dw = g.weight() ? outOff[1] : -1, db = g.bias() ? outOff[g.weight() ? 2 : 1] : -1;
                NormKernels.layerNormGrad(f, inOff[0], w, dy, outOff[0], dw, db, rows(x0), x0.last(), g.eps());
            }
            case RmsNorm rn -> NormKernels.rmsNorm(f, inOff[0], rn.weight() ? inOff[1] : -1, outOff[0], rows(x0), x0.last(), rn.eps());
            case RmsNormGrad g -> NormKernels.rmsNormGrad(f, inOff[0], g.weight() ? inOff[1] : -1, inOff[inOff.length - 1],
                    outOff[0], g.weight() ? outOff[1] : -1, rows(x0), x0.last(), g.eps());
            case Attention a -> AttentionKernels.forward(f, inOff[0], inOff[1], inOff[2], outOff[0],
                    dims(x0, a.heads(), a.kvHeads(), a.scale(), a.dropout(), a.salt(), a.dropout() > 0 ? ints[inOff[3]] : 0, a.window(),
                            a.softcap(), a.alibi(), a.chunk()));
            case AttentionGrad g -> AttentionKernels.backward(f, inOff[0], inOff[1], inOff[2], inOff[3],
                    outOff[0], outOff[1], outOff[2],
                    dims(x0, g.heads(), g.kvHeads(), g.scale(), g.dropout(), g.salt(), g.dropout() > 0 ? ints[inOff[4]] : 0, g.window(),
                            g.softcap(), g.alibi(), g.chunk()));
            case Rope r -> RopeKernels.rope(f, inOff[0], outOff[0], x0.dim(0), x0.dim(1), x0.dim(2), x0.dim(3),
                    r.base(), r.dims(), r.interleaved(), r.inverse(), inOff.length > 1 ? ints[inOff[1]] : 0, r.period());
            case Dropout d -> ElementwiseKernels.dropout(f, inOff[0], outOff[0], n0, ints[inOff[1]], d.salt(), d.p());
            case SwapAxes s -> LayoutKernels.swapAxes(f, inOff[0], outOff[0], s.view(x0));
            case Reshape r -> ElementwiseKernels.copy(n.input(0).dtype() == DType.I32 ? ints : f, inOff[0], outOff[0], n0);
            case CrossEntropy c -> LossKernels.crossEntropy(f, ints, inOff[0], inOff[1], outOff[0], rows(x0), x0.last());
            case CrossEntropyGrad c -> LossKernels.crossEntropyGrad(f, ints, inOff[0], inOff[1], inOff[2], outOff[0],
                    rows(x0), x0.last());
            case SumSquares s -> f[outOff[0]] = (float) ReduceKernels.sumSquares(f, inOff[0], n0);
            case GradClip g -> {
                int[] sizes = new int[inOff.length];   // one tiny array per optimizer step
                for (int k = 0; k < sizes.length; k++) sizes[k] = n.input(k).shape().intSize();
                ReduceKernels.gradClip(f, inOff, sizes, outOff[0], outOff[1], g.maxNorm());
            }
            case AdamW a -> OptimizerKernels.adamw(f, inOff[0], inOff[1], inOff[2], inOff[3], n0,
                    f[inOff[4]], f[inOff[5]], f[inOff[6]], a.beta1(), a.beta2(), a.eps(), a.weightDecay());
            case PositionIds p -> {
                int pos = ints[inOff[0]];
                for (int i = 0; i < p.count(); i++) ints[outOff[0] + i] = pos + i;
            }
            case KvWrite w -> CacheKernels.write(f, inOff[0], inOff[1], ints[inOff[2]], x0, n.input(1).shape());
            case CachedAttention a -> CacheKernels.attention(f, inOff[0], inOff[1], inOff[2], outOff[0], ints[inOff[3]],
                    x0, n.input(1).shape().dim(1), a.heads(), a.kvHeads(), (float) a.scale(), a.window(), a.softcap(), a.alibi(), a.chunk());
            case MoeRoute r -> MoeKernels.route(f, ints, inOff[0], inOff.length > 1 ? inOff[1] : -1, outOff[0], outOff[1], outOff[2],
                    outOff[3], outOff[4], x0.dim(0), r.experts(), r.topK(), r.sigmoid(), r.capacity());
            case MoeGate g -> MoeKernels.gate(f, ints, inOff[0], inOff.length > 1 ? inOff[1] : -1, outOff[0], x0.dim(0),
                    g.experts(), n.output().shape().dim(1), g.sigmoid());
            case MoeGateGrad g -> MoeKernels.gateGrad(f, ints, inOff[0], inOff.length > 2 ? inOff[1] : -1, inOff[inOff.length - 1],
                    outOff[0], x0.dim(0), g.experts(), n.input(n.inputs().size() - 1).shape().dim(1), g.sigmoid());
            case MoeDispatch d -> MoeKernels.dispatch(f, ints, inOff[0], inOff[1], inOff.length > 2 ? inOff[2] : -1, outOff[0],
                    x0.dim(0), n.input(1).shape().dim(1), x0.dim(1), d.rows());
            case MoeCombine c -> MoeKernels.combine(f, ints, inOff[0], inOff[1], inOff.length > 2 ? inOff[2] : -1, outOff[0],
                    n.input(1).shape().dim(0), n.input(1).shape().dim(1), x0.dim(1));
            case MoeRowDot r -> MoeKernels.rowDot(f, ints, inOff[0], inOff[1], inOff[2], outOff[0], x0.dim(0),
                    n.input(2).shape().dim(1), x0.dim(1));
            case GroupedMatMul g -> MoeKernels.groupedMatmul(f, ints, inOff[0], inOff[1], inOff[2], outOff[0],
                    n.input(1).shape().dim(0), x0.dim(0), x0.dim(1), n.output().shape().dim(1), g.transB());
            case GroupedMatMulWGrad g -> MoeKernels.groupedWGrad(f, ints, inOff[0], inOff[1], inOff[2], outOff[0],
                    n.input(2).shape().dim(0) - 1, x0.dim(1), n.input(1).shape().dim(1), g.transB());
            case BiasBalance bb -> MoeKernels.biasBalance(f, inOff[0], inOff[1], x0.dim(0), bb.rate());
            case Retention r -> ScanKernels.retention(f, inOff[0], inOff[1], inOff[2], outOff[0], scan(n), r.gammas(),
                    r.stateful() ? inOff[3] : -1, r.stateful() ? ints[inOff[4]] : 0);
            case RetentionGrad g -> ScanKernels.retentionGrad(f, inOff[0], inOff[1], inOff[2], inOff[3], outOff[0], outOff[1], outOff[2],
                    scan(n), g.gammas());
            case Mlstm m -> ScanKernels.mlstm(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], outOff[0], scan(n),
                    m.stateful() ? inOff[5] : -1, m.stateful() ? ints[inOff[6]] : 0);
            case MlstmGrad g -> ScanKernels.mlstmGrad(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], inOff[5], inOff[6],
                    outOff[0], outOff[1], outOff[2], outOff[3], outOff[4], scan(n));
            case Wkv w -> ScanKernels.wkv(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], outOff[0], scan(n),
                    w.stateful() ? inOff[5] : -1, w.stateful() ? ints[inOff[6]] : 0);
            case WkvGrad g -> ScanKernels.wkvGrad(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], inOff[5],
                    outOff[0], outOff[1], outOff[2], outOff[3], outOff[4], scan(n));
            case TokenShift ts -> ScanKernels.tokenShift(f, inOff[0], outOff[0], x0.dim(0), x0.dim(1), x0.dim(2), ts.reverse(),
                    ts.stateful() ? inOff[1] : -1, ts.stateful() ? ints[inOff[2]] : 0);
            case CausalConv c -> ConvKernels.forward(f, inOff[0], inOff[1], outOff[0], c.cached() ? outOff[1] : -1,
                    c.cached() ? ints[inOff[3]] : 0, x0.dim(0), x0.dim(1), x0.dim(2), n.input(1).shape().dim(1));
            case CausalConvGrad c -> ConvKernels.backward(f, inOff[0], inOff[1], inOff[2], outOff[0], outOff[1], x0.dim(0), x0.dim(1),
                    x0.dim(2), n.input(1).shape().dim(1));
            case GatedDeltaScan g -> SsmScanKernels.gatedDelta(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], outOff[0],
                    g.cached() ? outOff[1] : -1, g.cached() ? ints[inOff[6]] : 0, gdn(n));
            case GatedDeltaScanGrad g -> SsmScanKernels.gatedDeltaGrad(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], inOff[5],
                    outOff[0], outOff[1], outOff[2], outOff[3], outOff[4], gdn(n));
            case SsdScan sc -> SsmScanKernels.ssd(f, inOff[0], inOff[1], inOff[2], inOff[3], outOff[0], sc.cached() ? outOff[1] : -1,
                    sc.cached() ? ints[inOff[5]] : 0, ssd(n));
            case SsdScanGrad sc -> SsmScanKernels.ssdGrad(f, inOff[0], inOff[1], inOff[2], inOff[3], inOff[4], outOff[0], outOff[1],
                    outOff[2], outOff[3], ssd(n));
            case Sgd s -> OptimizerKernels.sgd(f, inOff[0], inOff[1], inOff[2], n0, f[inOff[3]], f[inOff[4]],
                    s.momentum(), s.weightDecay());
            case NesterovMomentum o -> OptimizerKernels.nesterov(f, inOff[0], inOff[1], outOff[1], n0, f[inOff[2]], f[inOff[3]]);
            case FrobeniusNormalize o -> {
                double norm = Math.sqrt(ReduceKernels.sumSquares(f, inOff[0], n0));
                ElementwiseKernels.scale(f, inOff[0], outOff[0], n0, 1 / (norm + o.eps()));
            }
            case Descend o -> OptimizerKernels.descend(f, inOff[0], inOff[1], n0, f[inOff[2]], o.scale(), o.weightDecay());
        }
    }

    private static ScanKernels.Dims scan(Node n) {
        Shape q = n.input(0).shape();
        return new ScanKernels.Dims(q.dim(0), q.dim(1), q.dim(2), q.dim(3), n.input(2).shape().dim(3));
    }

    private static SsmScanKernels.Gdn gdn(Node n) {
        Shape q = n.input(0).shape();
        return new SsmScanKernels.Gdn(q.dim(0), q.dim(1), q.dim(2), q.dim(3), n.input(2).shape().dim(3));
    }

    private static SsmScanKernels.Ssd ssd(Node n) {
        Shape x = n.input(0).shape(), bm = n.input(2).shape();
        return new SsmScanKernels.Ssd(x.dim(0), x.dim(1), x.dim(2), x.dim(3), bm.dim(2), bm.dim(3));
    }

    private static int rows(Shape s) {
        return Math.toIntExact(s.leadingSize());
    }

    private static AttentionKernels.Dims dims(Shape q, int heads, int kvHeads, double scale, double dropout, int salt, int seed,
                                              int window, double softcap, boolean alibi, int chunk) {
        return new AttentionKernels.Dims(q.dim(0), q.dim(1), heads, kvHeads, q.dim(3), (float) scale, dropout, salt, seed, window,
                softcap, alibi, chunk);
    }
}
