package dev.mixlab.autodiff;

import dev.mixlab.ir.*;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * The vector-Jacobian product of every differentiable op, as IR. The switch is exhaustive over the
 * sealed op family, so an op added to the catalogue without a rule here does not compile.
 */
final class Vjp {
    private Vjp() {}

    /**
     * Gradients for each input of {@code n} given the output's adjoint {@code dy}; an entry may be
     * null for inputs that need none ({@code needs} says which inputs lie on a path from a parameter).
     */
    static List<Value> rule(ProgramBuilder b, Node n, Value dy, IntPredicate needs) {
        List<Value> in = n.inputs();
        return switch (n.op()) {
            case Embedding e -> list(b.apply1(new EmbeddingGrad(in.get(0).shape().dim(0)), in.get(1), dy), null);
            case MatMul m -> matmul(b, m, in.get(0), in.get(1), dy, needs);
            case Add a -> list(dy, needs.test(1) ? reduceTo(b, dy, in.get(1).shape()) : null);
            case Mul m -> list(
                    needs.test(0) ? b.mul(dy, in.get(1)) : null,
                    needs.test(1) ? reduceTo(b, b.mul(dy, in.get(0)), in.get(1).shape()) : null);
            case Scale s -> list(b.scale(dy, s.factor()));
            case Broadcast bc -> list(b.apply1(new ReduceTo(in.get(0).shape()), dy));
            case ReduceTo r -> list(b.apply1(new Broadcast(in.get(0).shape()), dy));
            case ExpandLast e -> list(b.apply1(new SumLast(), dy));
            case SumLast s -> list(b.apply1(new ExpandLast(in.get(0).shape().last()), dy));
            case PadLast pl -> {
                Shape x = in.get(0).shape();
                yield list(b.apply1(new SliceLast(pl.start(), x.last(), x.dim(x.rank() - 2)), dy));
            }
            case SliceLast sl -> {
                Shape x = in.get(0).shape();
                yield list(b.apply1(new PadLast(sl.start(), x.last(), x.dim(x.rank() - 2)), dy));
            }
            case Unary u -> list(b.apply1(new UnaryGrad(u.fn()), in.get(0), dy));
            case LayerNorm ln -> {
                List<Value> args = new ArrayList<>();
                args.add(in.get(0));
                if (ln.weight()) args.add(in.get(1));
                args.add(dy);
                yield b.apply(new LayerNormGrad(ln.eps(), ln.weight(), ln.bias()), args.toArray(Value[]::new));
            }
            case RmsNorm rn -> {
                Value[] args = rn.weight() ? new Value[] {in.get(0), in.get(1), dy} : new Value[] {in.get(0), dy};
                yield b.apply(new RmsNormGrad(rn.eps(), rn.weight()), args);
            }
            case Attention a -> {
                AttentionGrad g = new AttentionGrad(a.heads(), a.kvHeads(), a.scale(), a.dropout(), a.salt(), a.window(),
                        a.softcap(), a.alibi(), a.chunk());
                Value[] args = a.dropout() > 0
                        ? new Value[] {in.get(0), in.get(1), in.get(2), dy, in.get(3)}
                        : new Value[] {in.get(0), in.get(1), in.get(2), dy};
                List<Value> out = new ArrayList<>(b.apply(g, args));
                if (a.dropout() > 0) out.add(null);
                yield out;
            }
            case Rope r -> {
                Rope inv = new Rope(r.base(), r.dims(), r.interleaved(), !r.inverse(), r.period());
                yield in.size() > 1 ? list(b.apply1(inv, dy, in.get(1)), null) : list(b.apply1(inv, dy));
            }
            case Dropout d -> list(b.apply1(d, dy, in.get(1)), null);
            case Reshape r -> list(b.reshape(dy, in.get(0).shape()));
            case SwapAxes s -> list(b.apply1(s, dy));   // an involution: its own adjoint
            case CrossEntropy c -> list(b.apply1(new CrossEntropyGrad(), in.get(0), in.get(1), dy), null);
            case SumSquares s -> list(b.scale(b.mul(in.get(0), dy), 2.0));
            case Retention r -> r.stateful() ? none(r) : b.apply(new RetentionGrad(r.gammas()), in.get(0), in.get(1), in.get(2), dy);
            case Mlstm m -> m.stateful() ? none(m) : b.apply(new MlstmGrad(), in.get(0), in.get(1), in.get(2), in.get(3), in.get(4), n.outputs().get(0), dy);
            case Wkv w -> {
                if (w.stateful()) yield none(w);
                List<Value> g = b.apply(new WkvGrad(), in.get(0), in.get(1), in.get(2), in.get(3), in.get(4), dy);
                yield list(g.get(0), g.get(1), g.get(2), g.get(3), reduceTo(b, g.get(4), in.get(4).shape()));
            }
            case TokenShift s -> s.stateful() ? none(s) : list(b.apply1(new TokenShift(!s.reverse(), false), dy));
            case WkvGrad o -> none(o);
            case RetentionGrad o -> none(o);
            case MlstmGrad o -> none(o);
            case EmbeddingGrad o -> none(o);
            case UnaryGrad o -> none(o);
            case LayerNormGrad o -> none(o);
            case RmsNormGrad o -> none(o);
            case AttentionGrad o -> none(o);
            case CrossEntropyGrad o -> none(o);
            case GradClip o -> none(o);
            case AdamW o -> none(o);
            case Sgd o -> none(o);
            case NesterovMomentum o -> none(o);
            case FrobeniusNormalize o -> none(o);
            case Descend o -> none(o);
            case PositionIds o -> none(o);
            case KvWrite o -> none(o);
            case CachedAttention o -> none(o);
            case MoeGate g -> in.size() == 2
                    ? list(b.apply1(new MoeGateGrad(g.experts(), g.sigmoid()), in.get(0), in.get(1), dy), null)
                    : list(b.apply1(new MoeGateGrad(g.experts(), g.sigmoid()), in.get(0), dy));
            case MoeDispatch d -> moeDispatch(b, in, dy, needs);
            case MoeCombine c -> moeCombine(b, in, dy, needs);
            case GroupedMatMul g -> list(
                    needs.test(0) ? b.apply1(new GroupedMatMul(!g.transB()), dy, in.get(1), in.get(2)) : null,
                    needs.test(1) ? b.apply1(new GroupedMatMulWGrad(g.transB()), in.get(0), dy, in.get(2)) : null,
                    null);
            case MoeRoute o -> none(o);
            case MoeGateGrad o -> none(o);
            case MoeRowDot o -> none(o);
            case GroupedMatMulWGrad o -> none(o);
            case BiasBalance o -> none(o);
            case CausalConv c -> c.cached() ? none(c) : b.apply(new CausalConvGrad(), in.get(0), in.get(1), dy);
            case GatedDeltaScan g -> g.cached() ? none(g)
                    : b.apply(new GatedDeltaScanGrad(), in.get(0), in.get(1), in.get(2), in.get(3), in.get(4), dy);
            case SsdScan s -> s.cached() ? none(s) : b.apply(new SsdScanGrad(), in.get(0), in.get(1), in.get(2), in.get(3), dy);
            case CausalConvGrad o -> none(o);
            case GatedDeltaScanGrad o -> none(o);
            case SsdScanGrad o -> none(o);
        };
    }

    /** dispatch(x, slot, g?) -> xg: dx = combine(dxg, slot, g?), dg = rowdot(x, dxg, slot). */
    private static List<Value> moeDispatch(ProgramBuilder b, List<Value> in, Value dy, IntPredicate needs) {
        boolean gated = in.size() == 3;
        Value dx = needs.test(0) ? b.apply1(new MoeCombine(), gated ? new Value[] {dy, in.get(1), in.get(2)} : new Value[] {dy, in.get(1)}) : null;
        Value dg = gated && needs.test(2) ? b.apply1(new MoeRowDot(), in.get(0), dy, in.get(1)) : null;
        return gated ? list(dx, null, dg) : list(dx, null);
    }

    /** combine(yg, slot, g?) -> y: dyg = dispatch(dy, slot, g?), dg = rowdot(dy, yg, slot). */
    private static List<Value> moeCombine(ProgramBuilder b, List<Value> in, Value dy, IntPredicate needs) {
        boolean gated = in.size() == 3;
        int rows = in.get(0).shape().dim(0);
        Value dyg = needs.test(0)
                ? b.apply1(new MoeDispatch(rows), gated ? new Value[] {dy, in.get(1), in.get(2)} : new Value[] {dy, in.get(1)})
                : null;
        Value dg = gated && needs.test(2) ? b.apply1(new MoeRowDot(), dy, in.get(0), in.get(1)) : null;
        return gated ? list(dyg, null, dg) : list(dyg, null);
    }

    private static List<Value> none(Op op) {
        throw new IrException(op.name() + " is not differentiable");
    }

    private static List<Value> list(Value... v) {
        return Arrays.asList(v);
    }

    private static Value reduceTo(ProgramBuilder b, Value x, Shape target) {
        return x.shape().equals(target) ? x : b.apply1(new ReduceTo(target), x);
    }

    /**
     * For {@code C = A'·B'} with {@code A' = op(A)}, {@code B' = op(B)}: {@code dA' = dC·B'ᵀ} and
     * {@code dB' = A'ᵀ·dC}, each written as one matmul on the stored operands (no transposes
     * materialised) and reshaped back to the stored shape.
     */
    private static List<Value> matmul(ProgramBuilder b, MatMul m, Value a, Value bb, Value dc, IntPredicate needs) {
        Value da = null, db = null;
        if (needs.test(0)) {
            da = m.transA() ? b.matmul(bb, dc, m.transB(), true) : b.matmul(dc, bb, false, !m.transB());
            da = b.reshape(da, a.shape());
        }
        if (needs.test(1)) {
            db = m.transB() ? b.matmul(dc, a, true, m.transA()) : b.matmul(a, dc, !m.transA(), false);
            db = b.reshape(db, bb.shape());
        }
        return list(da, db);
    }
}
