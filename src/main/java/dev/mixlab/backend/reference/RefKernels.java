package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.AttnMask;
import dev.mixlab.ir.*;

/** One plain float64 kernel per op; the exhaustive switch makes a missing kernel a compile error. */
final class RefKernels {
    private RefKernels() {}

    static Tensor[] apply(Node n, Tensor[] in) {
        Shape outShape = n.outputs().get(0).shape();
        return switch (n.op()) {
            case Embedding e -> one(outShape, embedding(in[0].f(), in[1].i(), in[0].shape().dim(1)));
            case EmbeddingGrad e -> one(outShape, embeddingGrad(in[0].i(), in[1].f(), e.vocab(), in[1].shape().last()));
            case MatMul m -> {
                long[] mnk = m.mnk(n.inputTypes());
                double[] c = new double[(int) (mnk[0] * mnk[1])];
                matmul(in[0].f(), m.transA(), in[1].f(), m.transB(), c, (int) mnk[0], (int) mnk[1], (int) mnk[2]);
                yield one(outShape, c);
            }
            case Add a -> one(outShape, binary(in[0].f(), in[1].f(), true));
            case Mul m -> one(outShape, binary(in[0].f(), in[1].f(), false));
            case Scale s -> {
                double[] x = in[0].f(), y = new double[x.length];
                for (int i = 0; i < x.length; i++) y[i] = x[i] * s.factor();
                yield one(outShape, y);
            }
            case Broadcast b -> {
                double[] x = in[0].f(), y = new double[b.shape().intSize()];
                for (int i = 0; i < y.length; i++) y[i] = x[i % x.length];
                yield one(outShape, y);
            }
            case ReduceTo r -> {
                double[] x = in[0].f(), y = new double[r.shape().intSize()];
                for (int i = 0; i < x.length; i++) y[i % y.length] += x[i];
                yield one(outShape, y);
            }
            case ExpandLast e -> {
                double[] x = in[0].f(), y = new double[x.length * e.n()];
                for (int i = 0; i < y.length; i++) y[i] = x[i / e.n()];
                yield one(outShape, y);
            }
            case SumLast s -> {
                double[] x = in[0].f(), y = new double[outShape.intSize()];
                int m = in[0].shape().last();
                for (int i = 0; i < x.length; i++) y[i / m] += x[i];
                yield one(outShape, y);
            }
            case PadLast pl -> {
                Shape x = in[0].shape();
                int nc = x.last(), r = x.dim(x.rank() - 2), outer = x.intSize() / (nc * r);
                double[] xs = in[0].f(), y = new double[outShape.intSize()];
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < pl.rows(); i++) {
                        for (int j = 0; j < nc; j++) y[(o * pl.rows() + i) * pl.total() + pl.start() + j] = xs[(o * r + (r == 1 ? 0 : i)) * nc + j];
                    }
                }
                yield one(outShape, y);
            }
            case SliceLast sl -> {
                Shape x = in[0].shape();
                int nc = x.last(), r = x.dim(x.rank() - 2), outer = x.intSize() / (nc * r);
                double[] xs = in[0].f(), y = new double[outShape.intSize()];
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < r; i++) {
                        int yi = sl.rows() == 1 ? o : o * r + i;
                        for (int j = 0; j < sl.len(); j++) y[yi * sl.len() + j] += xs[(o * r + i) * nc + sl.start() + j];
                    }
                }
                yield one(outShape, y);
            }
            case Unary u -> {
                double[] x = in[0].f(), y = new double[x.length];
                for (int i = 0; i < x.length; i++) y[i] = Pointwise.f(u.fn(), x[i]);
                yield one(outShape, y);
            }
            case UnaryGrad u -> {
                double[] x = in[0].f(), dy = in[1].f(), dx = new double[x.length];
                for (int i = 0; i < x.length; i++) dx[i] = dy[i] * Pointwise.df(u.fn(), x[i]);
                yield one(outShape, dx);
            }
            case LayerNorm ln -> one(outShape, Norm.layerNorm(in[0].f(), ln.weight() ? in[1].f() : null,
                    ln.bias() ? in[ln.weight() ? 2 : 1].f() : null, in[0].shape().last(), ln.eps()));
            case LayerNormGrad g -> Norm.layerNormGrad(in[0], g.weight() ? in[1].f() : null, in[in.length - 1].f(),
                    g.eps(), g.weight(), g.bias());
            case RmsNorm rn -> one(outShape, Norm.rmsNorm(in[0].f(), rn.weight() ? in[1].f() : null, in[0].shape().last(), rn.eps()));
            case RmsNormGrad g -> Norm.rmsNormGrad(in[0], g.weight() ? in[1].f() : null, in[in.length - 1].f(), g.eps(), g.weight());
            case Attention a -> one(outShape, Attn.forward(a, in[0], in[1].f(), in[2].f(), a.dropout() > 0 ? in[3].i()[0] : 0));
            case AttentionGrad g -> Attn.backward(g, in[0], in[1], in[2], in[3].f(), g.dropout() > 0 ? in[4].i()[0] : 0);
            case Rope r -> one(outShape, rope(r, in[0], in.length > 1 ? in[1].i()[0] : 0));
            case PositionIds p -> {
                int[] ids = new int[p.count()];
                for (int i = 0; i < ids.length; i++) ids[i] = in[0].i()[0] + i;
                yield new Tensor[] {Tensor.ofInts(outShape, ids)};
            }
            case KvWrite w -> {
                Shape c = in[0].shape(), x = in[1].shape();
                int pos = in[2].i()[0], tmax = c.dim(1), s = x.dim(1), row = c.dim(2) * c.dim(3);
                if (pos < 0 || pos + s > tmax) throw new IllegalArgumentException("cache rows " + pos + ".." + (pos + s) + " beyond " + tmax);
                for (int b = 0; b < c.dim(0); b++) {
                    System.arraycopy(in[1].f(), b * s * row, in[0].f(), (b * tmax + pos) * row, s * row);
                }
                yield new Tensor[] {in[0]};
            }
            case MoeRoute r -> Moe.route(r, in[0].f(), in.length > 1 ? in[1].f() : null, in[0].shape().dim(0));
            case MoeGate g -> one(outShape, Moe.gate(g, in[0].f(), in.length > 1 ? in[1].i() : null, in[0].shape().dim(0)));
            case MoeGateGrad g -> one(outShape, Moe.gateGrad(g, in[0].f(), in.length > 2 ? in[1].i() : null, in[in.length - 1].f(),
                    in[0].shape().dim(0)));
            case MoeDispatch d -> one(outShape, Moe.dispatch(d.rows(), in[0].f(), in[1].i(), in.length > 2 ? in[2].f() : null,
                    in[0].shape().dim(1)));
            case MoeCombine c -> one(outShape, Moe.combine(in[0].f(), in[1].i(), in.length > 2 ? in[2].f() : null,
                    outShape.dim(0), outShape.dim(1)));
            case MoeRowDot r -> one(outShape, Moe.rowDot(in[0].f(), in[1].f(), in[2].i(), in[0].shape().dim(0), in[0].shape().dim(1)));
            case GroupedMatMul g -> one(outShape, Moe.groupedMatmul(g.transB(), in[0].f(), in[1].f(), in[2].i(),
                    in[0].shape().dim(0), in[0].shape().dim(1), outShape.dim(1)));
            case GroupedMatMulWGrad g -> one(outShape, Moe.groupedWGrad(g.transB(), in[0].f(), in[1].f(), in[2].i(),
                    in[0].shape().dim(1), in[1].shape().dim(1)));
            case BiasBalance bb -> {
                Moe.biasBalance(bb.rate(), in[0].f(), in[1].f());
                yield new Tensor[] {in[0]};
            }
            case Retention r -> Scan.retention(r, in[0], in[1], in[2], r.stateful() ? in[3] : null, r.stateful() ? in[4].i()[0] : 0);
            case RetentionGrad g -> Scan.retentionGrad(g.gammas(), in[0], in[1], in[2], in[3].f());
            case Mlstm m -> Scan.mlstm(in[0], in[1], in[2], in[3].f(), in[4].f(), m.stateful() ? in[5] : null, m.stateful() ? in[6].i()[0] : 0);
            case MlstmGrad g -> Scan.mlstmGrad(in[0], in[1], in[2], in[3].f(), in[4].f(), in[5].f(), in[6].f());
            case Wkv w -> Scan.wkv(in[0], in[1], in[2], in[3].f(), in[4].f(), w.stateful() ? in[5] : null, w.stateful() ? in[6].i()[0] : 0);
            case WkvGrad g -> Scan.wkvGrad(in[0], in[1], in[2], in[3].f(), in[4].f(), in[5].f());
            case TokenShift ts -> Scan.tokenShift(ts.reverse(), in[0], ts.stateful() ? in[1] : null, ts.stateful() ? in[2].i()[0] : 0);
            case CachedAttention a -> one(outShape, Attn.cached(a, in[0], in[1], in[2].f(), in[3].i()[0]));
            case CausalConv c -> c.cached()
                    ? new Tensor[] {Tensor.of(outShape, SsmScan.conv(in[0], in[1].f(), in[2].f(), in[3].i()[0])), in[2]}
                    : one(outShape, SsmScan.conv(in[0], in[1].f(), null, 0));
            case CausalConvGrad c -> SsmScan.convGrad(in[0], in[1], in[2].f());
            case GatedDeltaScan g -> g.cached()
                    ? new Tensor[] {Tensor.of(outShape, SsmScan.gatedDelta(in[0], in[1].f(), in[2].f(), in[3].f(), in[4].f(), outShape.last(),
                            in[5].f(), in[6].i()[0])), in[5]}
                    : one(outShape, SsmScan.gatedDelta(in[0], in[1].f(), in[2].f(), in[3].f(), in[4].f(), outShape.last(), null, 0));
            case GatedDeltaScanGrad g -> SsmScan.gatedDeltaGrad(in);
            case SsdScan s -> s.cached()
                    ? new Tensor[] {Tensor.of(outShape, SsmScan.ssd(in[0], in[1].f(), in[2], in[3].f(), in[4].f(), in[5].i()[0])), in[4]}
                    : one(outShape, SsmScan.ssd(in[0], in[1].f(), in[2], in[3].f(), null, 0));
            case SsdScanGrad s -> SsmScan.ssdGrad(in);
            case Dropout d -> {
                double[] x = in[0].f(), y = new double[x.length];
                int seed = in[1].i()[0], thr = DropoutHash.threshold(d.p());
                double s = 1 / (1 - d.p());
                for (int i = 0; i < x.length; i++) y[i] = DropoutHash.keep(seed, d.salt(), i, thr) ? x[i] * s : 0;
                yield one(outShape, y);
            }
            case Reshape r -> new Tensor[] {new Tensor(r.shape(), in[0].f(), in[0].i())};
            case SwapAxes s -> one(outShape, swapAxes(s.view(in[0].shape()), in[0].f()));
            case CrossEntropy c -> one(outShape, new double[] {crossEntropy(in[0].f(), in[1].i(), in[0].shape().last(), null, 0)});
            case CrossEntropyGrad c -> {
                double[] dl = new double[in[0].f().length];
                crossEntropy(in[0].f(), in[1].i(), in[0].shape().last(), dl, in[2].scalar());
                yield one(outShape, dl);
            }
            case SumSquares s -> {
                double acc = 0;
                for (double v : in[0].f()) acc += v * v;
                yield one(outShape, new double[] {acc});
            }
            case GradClip g -> {
                double acc = 0;
                for (Tensor t : in) for (double v : t.f()) acc += v * v;
                double norm = Math.sqrt(acc);
                double coef = g.maxNorm() > 0 ? Math.min(1.0, g.maxNorm() / (norm + 1e-6)) : 1.0;
                yield new Tensor[] {Tensor.of(Shape.SCALAR, new double[] {norm}), Tensor.of(Shape.SCALAR, new double[] {coef})};
            }
            case AdamW a -> {
                adamw(a, in[0].f(), in[1].f(), in[2].f(), in[3].f(), in[4].scalar(), in[5].scalar(), in[6].scalar());
                yield new Tensor[] {in[0], in[2], in[3]};
            }
            case Sgd s -> {
                double[] p = in[0].f(), g = in[1].f(), buf = in[2].f();
                double lr = in[3].scalar(), gs = in[4].scalar();
                for (int i = 0; i < p.length; i++) {
                    double d = g[i] * gs + s.weightDecay() * p[i];
                    buf[i] = s.momentum() * buf[i] + d;
                    p[i] -= lr * buf[i];
                }
                yield new Tensor[] {in[0], in[2]};
            }
            case NesterovMomentum o -> {
                double[] buf = in[0].f(), g = in[1].f(), u = new double[buf.length];
                double mu = in[2].scalar(), gs = in[3].scalar();
                for (int i = 0; i < buf.length; i++) {
                    double gi = g[i] * gs;
                    buf[i] = mu * buf[i] + gi;
                    u[i] = gi + mu * buf[i];
                }
                yield new Tensor[] {in[0], Tensor.of(in[0].shape(), u)};
            }
            case FrobeniusNormalize o -> {
                double[] x = in[0].f(), y = new double[x.length];
                double acc = 0;
                for (double v : x) acc += v * v;
                double inv = 1 / (Math.sqrt(acc) + o.eps());
                for (int i = 0; i < x.length; i++) y[i] = x[i] * inv;
                yield one(outShape, y);
            }
            case Descend o -> {
                double[] p = in[0].f(), u = in[1].f();
                double lr = in[2].scalar();
                for (int i = 0; i < p.length; i++) p[i] = p[i] * (1 - lr * o.weightDecay()) - lr * o.scale() * u[i];
                yield new Tensor[] {in[0]};
            }
        };
    }

    private static Tensor[] one(Shape s, double[] v) {
        return new Tensor[] {Tensor.of(s, v)};
    }

    static double[] embedding(double[] table, int[] ids, int d) {
        int v = table.length / d;
        double[] out = new double[ids.length * d];
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= v) throw new IllegalArgumentException("token id " + id + " outside [0," + v + ")");
            System.arraycopy(table, id * d, out, r * d, d);
        }
        return out;
    }

    static double[] embeddingGrad(int[] ids, double[] dy, int vocab, int d) {
        double[] g = new double[vocab * d];
        for (int r = 0; r < ids.length; r++) for (int k = 0; k < d; k++) g[ids[r] * d + k] += dy[r * d + k];
        return g;
    }

    /** c[M,N] = op(a)·op(b) with the IR's storage conventions. */
    static void matmul(double[] a, boolean ta, double[] b, boolean tb, double[] c, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
    }

    static double[] binary(double[] a, double[] b, boolean add) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = add ? a[i] + b[i % b.length] : a[i] * b[i % b.length];
        return y;
    }

    /** y[o, j, m, i, c] = x[o, i, m, j, c] for x viewed as [outer, n1, mid, n2, inner] (see SwapAxes). */
    static double[] swapAxes(int[] v, double[] x) {
        int outer = v[0], n1 = v[1], mid = v[2], n2 = v[3], inner = v[4];
        double[] y = new double[x.length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < n1; i++)
                for (int m = 0; m < mid; m++)
                    for (int j = 0; j < n2; j++)
                        for (int c = 0; c < inner; c++) {
                            y[(((o * n2 + j) * mid + m) * n1 + i) * inner + c] = x[(((o * n1 + i) * mid + m) * n2 + j) * inner + c];
                        }
        return y;
    }

    static double[] rope(Rope r, Tensor x, int posOffset) {
        Shape s = x.shape();
        int bsz = s.dim(0), t = s.dim(1), h = s.dim(2), hd = s.dim(3), half = r.dims() / 2;
        double[] in = x.f(), out = in.clone();
        for (int b = 0; b < bsz; b++) {
            for (int pos = 0; pos < t; pos++) {
                for (int head = 0; head < h; head++) {
                    int base = ((b * t + pos) * h + head) * hd;
                    for (int j = 0; j < half; j++) {
                        double theta = AttnMask.ropePosition(pos + posOffset, r.period()) * Math.pow(r.base(), -2.0 * j / r.dims());
                        double c = Math.cos(theta), sn = r.inverse() ? -Math.sin(theta) : Math.sin(theta);
                        int i1 = r.interleaved() ? base + 2 * j : base + j;
                        int i2 = r.interleaved() ? base + 2 * j + 1 : base + j + half;
                        double x1 = in[i1], x2 = in[i2];
                        out[i1] = x1 * c - x2 * sn;
                        out[i2] = x1 * sn + x2 * c;
                    }
                }
            }
        }
        return out;
    }

    /** Mean cross-entropy; when {@code grad} is non-null also writes (softmax - onehot)·scale/N. */
    static double crossEntropy(double[] logits, int[] targets, int v, double[] grad, double scale) {
        int rows = targets.length;
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t < 0 || t >= v) throw new IllegalArgumentException("target " + t + " outside [0," + v + ")");
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) max = Math.max(max, logits[r * v + j]);
            double sum = 0;
            for (int j = 0; j < v; j++) sum += Math.exp(logits[r * v + j] - max);
            double lse = max + Math.log(sum);
            total += lse - logits[r * v + t];
            if (grad != null) {
                for (int j = 0; j < v; j++) {
                    double p = Math.exp(logits[r * v + j] - lse);
                    grad[r * v + j] = (p - (j == t ? 1 : 0)) * scale / rows;
                }
            }
        }
        return total / rows;
    }

    static void adamw(AdamW a, double[] p, double[] g, double[] m, double[] v, double lr, double step, double gs) {
        double bc1 = 1 - Math.pow(a.beta1(), step), bc2 = 1 - Math.pow(a.beta2(), step);
        double stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * gs;
            p[i] *= 1 - lr * a.weightDecay();
            m[i] += (gi - m[i]) * (1 - a.beta1());
            v[i] = v[i] * a.beta2() + (1 - a.beta2()) * gi * gi;
            p[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + a.eps());
        }
    }
}
