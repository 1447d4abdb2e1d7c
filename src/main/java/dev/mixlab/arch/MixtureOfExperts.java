package dev.mixlab.arch;

import dev.mixlab.config.FfnType;
import dev.mixlab.config.MoeBlock;
import dev.mixlab.config.RouterType;
import dev.mixlab.ir.ExpandLast;
import dev.mixlab.ir.GroupedMatMul;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.MoeCombine;
import dev.mixlab.ir.MoeDispatch;
import dev.mixlab.ir.MoeGate;
import dev.mixlab.ir.MoeRoute;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.ReduceTo;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SumLast;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;
import java.util.List;

/**
 * The mixture-of-experts FFN of a {@code moe} block on {@code x[B,T,D]}: router logits
 * {@code x·Wrᵀ}, top-k routing into a grouped row buffer ({@link MoeRoute}), the experts as grouped
 * matmuls over only the routed rows, the outputs combined with the normalised gates
 * ({@link MoeGate}), plus the shared experts as one dense FFN. Training programs also get the
 * Switch/GShard load-balancing loss {@code coef·E·Σ_i f_i·P_i} with f_i the fraction of tokens that
 * chose expert i among their top k (Σ f_i = k, as Hugging Face's Mixtral) and P_i the mean router
 * probability; it is per layer, and the layers' losses are summed (Switch). Every layer reports a
 * {@link RouterTap} to the context.
 */
final class MixtureOfExperts {
    private MixtureOfExperts() {}

    static Value apply(ModelContext ctx, String name, Value x, MoeBlock m, int layer) {
        ProgramBuilder b = ctx.builder();
        int bsz = x.shape().dim(0), t = x.shape().dim(1), d = ctx.dim(), n = bsz * t, e = m.experts(), k = m.topK();
        boolean sigmoid = m.router() == RouterType.SIGMOID;
        Value xf = b.reshape(x, n, d);
        Value logits = b.linear(xf, ctx.linearWeight(name + ".router", e, d, 1));
        Value bias = m.biasBalancing() ? b.param(name + ".router.balance_bias", Shape.of(e), Init.zeros(), RouterTap.BUFFER) : null;
        // decoding feeds a few tokens at a time: no capacity there (it would depend on the call size)
        int cap = ctx.decoding() ? 0 : m.capacity(n);
        int rows = MoeRoute.rows(n, e, k, cap);
        MoeRoute route = new MoeRoute(e, k, sigmoid, cap, rows);
        List<Value> r = bias != null ? b.apply(route, logits, bias) : b.apply(route, logits);
        Value slot = r.get(0), sel = r.get(1), offsets = r.get(2), load = r.get(3), dropped = r.get(4);
        Value gates = b.apply1(new MoeGate(e, sigmoid), logits, sel);
        Value xg = b.apply1(new MoeDispatch(rows), xf, slot);
        Value yg = experts(ctx, name + ".experts", xg, offsets, m);
        Value y = b.apply1(new MoeCombine(), yg, slot, gates);
        if (m.sharedExperts() > 0) {
            double mult = m.sharedExperts() * m.expertMult();
            Value s = m.expertFfn() == FfnType.SWIGLU
                    ? FeedForward.swiglu(ctx, name + ".shared", xf, mult)
                    : FeedForward.mlp(ctx, name + ".shared", xf, m.mixer().activation(), mult);
            if (m.sharedExpertGate()) {
                // one sigmoid gate per token, broadcast over the model width
                Value g = b.unary(UnaryFn.SIGMOID, b.reshape(ctx.linear(name + ".shared_gate", xf, 1, 1, false), n));
                s = b.mul(s, b.apply1(new ExpandLast(d), g));
            }
            y = b.add(y, s);
        }
        Value aux = null;
        if (ctx.training() && m.auxLossCoef() > 0) {
            // f_i = load_i/N (sums to k), P_i = Σ_n p[n,i]/N: coef·E·Σ f_i·P_i (HF Mixtral's load_balancing_loss_func
            // for one layer); only P carries a gradient
            Value psum = b.apply1(new ReduceTo(Shape.of(e)), b.apply1(new MoeGate(e, sigmoid), logits));
            aux = b.scale(b.apply1(new SumLast(), b.mul(psum, load)), m.auxLossCoef() * e / ((double) n * n));
        }
        ctx.addRouter(new RouterTap(layer, aux, load, dropped, bias, m.biasUpdateRate()));
        return b.reshape(y, bsz, t, d);
    }

    /** The experts' FFN over the grouped rows: weights stacked [E, out, in], one grouped matmul per projection. */
    private static Value experts(ModelContext ctx, String name, Value xg, Value offsets, MoeBlock m) {
        ProgramBuilder b = ctx.builder();
        int d = ctx.dim(), hid = FeedForward.hidden(ctx, m.expertMult()), e = m.experts();
        Init in = Init.normal(ctx.config().initStd());
        Init out = ctx.config().zeroInitProj() ? Init.zeros() : Init.normal(ctx.config().initStd() * ctx.residualScale());
        Value h;
        if (m.expertFfn() == FfnType.SWIGLU) {
            Value gate = gmm(b, xg, b.param(name + ".gate.weight", Shape.of(e, hid, d), in, "matrix"), offsets);
            Value up = gmm(b, xg, b.param(name + ".up.weight", Shape.of(e, hid, d), in, "matrix"), offsets);
            h = b.mul(b.unary(UnaryFn.SILU, gate), up);
        } else {
            h = b.unary(FeedForward.fn(m.mixer().activation()),
                    gmm(b, xg, b.param(name + ".fc.weight", Shape.of(e, hid, d), in, "matrix"), offsets));
        }
        return gmm(b, h, b.param(name + ".proj.weight", Shape.of(e, d, hid), out, "matrix"), offsets);
    }

    private static Value gmm(ProgramBuilder b, Value x, Value w, Value offsets) {
        return b.apply1(new GroupedMatMul(true), x, w, offsets);
    }
}
