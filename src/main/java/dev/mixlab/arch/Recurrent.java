package dev.mixlab.arch;

import dev.mixlab.config.GatedDeltaNetBlock;
import dev.mixlab.config.Mamba1Block;
import dev.mixlab.config.Mamba2Block;
import dev.mixlab.ir.Broadcast;
import dev.mixlab.ir.CausalConv;
import dev.mixlab.ir.ExpandLast;
import dev.mixlab.ir.GatedDeltaScan;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.SsdScan;
import dev.mixlab.ir.SumLast;
import dev.mixlab.ir.SwapAxes;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;
import dev.mixlab.ir.Wkv;

/**
 * The recurrent mixers: Gated DeltaNet and Mamba-2. Each maps the normed stream {@code x[B,T,D]}
 * to the branch {@code [B,T,D]}. In training and evaluation programs the scans run over the whole
 * sequence from a zero state; in decode programs the short-convolution inputs and the scan state
 * are kept in {@code cache.<name>.*} state tensors and advanced in place, so a token costs the same
 * at any position.
 */
final class Recurrent {
    private Recurrent() {}

    /** Mamba's step-size range: dt_bias spans softplus⁻¹(0.001) .. softplus⁻¹(0.1); A spans 1 .. 16. */
    static final double DT_MIN = 0.001, DT_MAX = 0.1, A_MIN = 1, A_MAX = 16;

    static double invSoftplus(double y) {
        return y + Math.log(-Math.expm1(-y));
    }

    /**
     * Gated DeltaNet (flash-linear-attention's {@code GatedDeltaNet}, Qwen3-Next's linear attention):
     * q, k, v projections through a short causal conv + SiLU; q, k L2-normalised per head (a weightless
     * RMSNorm with eps/d_k, scaled by d_k^-1/2, is exactly x/√(Σx² + eps)), q further by d_k^-1/2;
     * β = sigmoid(b_proj x); g = −exp(A_log)·softplus(a_proj x + dt_bias); the delta-rule scan; a
     * per-channel RMSNorm of each head's output times SiLU(g_proj x); o_proj.
     */
    static Value gatedDeltaNet(ModelContext ctx, String name, Value x, GatedDeltaNetBlock spec) {
        ProgramBuilder b = ctx.builder();
        int bs = x.shape().dim(0), t = x.shape().dim(1), hk = spec.heads(), dk = spec.headDim(), dv = spec.valueDim();
        int h = spec.valueHeads();    // the scan runs per value head; query/key heads are repeated to match
        Value q = conv(ctx, name + ".q_conv1d", ctx.linear(name + ".q_proj", x, hk * dk, 1, false), spec.convSize(), false);
        Value k = conv(ctx, name + ".k_conv1d", ctx.linear(name + ".k_proj", x, hk * dk, 1, false), spec.convSize(), false);
        Value v = conv(ctx, name + ".v_conv1d", ctx.linear(name + ".v_proj", x, h * dv, 1, false), spec.convSize(), false);
        double l2eps = 1e-6 / dk;
        q = repeatHeads(b, b.scale(b.apply1(new RmsNorm(l2eps, false), b.reshape(q, bs, t, hk, dk)), 1.0 / dk), h / hk);
        k = repeatHeads(b, b.scale(b.apply1(new RmsNorm(l2eps, false), b.reshape(k, bs, t, hk, dk)), 1 / Math.sqrt(dk)), h / hk);
        v = b.reshape(v, bs, t, h, dv);
        Value beta = b.unary(UnaryFn.SIGMOID, ctx.linear(name + ".b_proj", x, h, 1, false));
        Value g = decay(ctx, name, ctx.linear(name + ".a_proj", x, h, 1, false), h);
        Value o;
        if (ctx.decoding()) {
            Value st = b.state("cache." + name + ".ssm_state", Shape.of(bs, h, dk, dv), Init.zeros());
            o = b.apply(new GatedDeltaScan(true), q, k, v, g, beta, st, ctx.position()).get(0);
        } else {
            o = b.apply1(new GatedDeltaScan(false), q, k, v, g, beta);
        }
        o = b.apply1(new RmsNorm(ctx.config().normEps(), true), o, b.param(name + ".o_norm.weight", Shape.of(dv), Init.ones(), "norm"));
        Value gate = b.unary(UnaryFn.SILU, ctx.linear(name + ".g_proj", x, h * dv, 1, false));
        o = b.mul(b.reshape(o, bs, t, h * dv), gate);
        return ctx.projection(name + ".o_proj", o, ctx.dim());
    }

    /** x [B,T,H,d] with every head repeated r times in place (head j of the result is head j/r of x), [B,T,H·r,d]. */
    static Value repeatHeads(ProgramBuilder b, Value x, int r) {
        if (r == 1) return x;
        Shape s = x.shape();
        return b.reshape(repeatBeforeLast(b, x, r), s.dim(0), s.dim(1), s.dim(2) * r, s.dim(3));
    }

    /** x [..., d] → [..., r, d]: r copies along a new second-to-last axis. */
    private static Value repeatBeforeLast(ProgramBuilder b, Value x, int r) {
        int rank = x.shape().rank();
        return b.apply1(new SwapAxes(rank - 1, rank), b.apply1(new ExpandLast(r), x));    // [..., d, r] -> [..., r, d]
    }

    /**
     * Mamba-2 (the official {@code Mamba2} layer with the fused in_proj kept as five matrices):
     * z, x, B, C, dt projections; SiLU(short conv + bias) on x, B, C; dt = softplus(dt + dt_bias);
     * a = dt·A with A = −exp(A_log); the SSD scan on x·dt; the skip D·x; RMSNorm(y·SiLU(z)) per
     * group with a weight; out_proj.
     */
    static Value mamba2(ModelContext ctx, String name, Value x, Mamba2Block spec) {
        ProgramBuilder b = ctx.builder();
        int bs = x.shape().dim(0), t = x.shape().dim(1), inner = spec.expand() * ctx.dim(), p = spec.headDim();
        int h = inner / p, n = spec.dState(), gr = spec.ngroups();
        Value z = ctx.linear(name + ".in_proj_z", x, inner, 1, false);
        Value xs = conv(ctx, name + ".conv1d_x", ctx.linear(name + ".in_proj_x", x, inner, 1, false), spec.convSize(), true);
        Value bm = conv(ctx, name + ".conv1d_B", ctx.linear(name + ".in_proj_B", x, gr * n, 1, false), spec.convSize(), true);
        Value c = conv(ctx, name + ".conv1d_C", ctx.linear(name + ".in_proj_C", x, gr * n, 1, false), spec.convSize(), true);
        Value dtBias = b.param(name + ".dt_bias", Shape.of(h), Init.linspace(invSoftplus(DT_MIN), invSoftplus(DT_MAX)), "control");
        Value dt = b.unary(UnaryFn.SOFTPLUS, b.add(ctx.linear(name + ".in_proj_dt", x, h, 1, false), dtBias));
        Value aLog = b.param(name + ".A_log", Shape.of(h), Init.linspace(Math.log(A_MIN), Math.log(A_MAX)), "control");
        Value a = b.mul(dt, b.scale(b.unary(UnaryFn.EXP, aLog), -1));
        Value x4 = b.reshape(xs, bs, t, h, p);
        Value xdt = b.mul(x4, b.apply1(new ExpandLast(p), dt));
        bm = b.reshape(bm, bs, t, gr, n);
        c = b.reshape(c, bs, t, gr, n);
        Value y;
        if (ctx.decoding()) {
            Value st = b.state("cache." + name + ".ssm_state", Shape.of(bs, h, p, n), Init.zeros());
            y = b.apply(new SsdScan(true), xdt, a, bm, c, st, ctx.position()).get(0);
        } else {
            y = b.apply1(new SsdScan(false), xdt, a, bm, c);
        }
        Value d = b.param(name + ".D", Shape.of(h), Init.ones(), "control");
        y = b.add(y, b.mul(x4, b.apply1(new ExpandLast(p), d)));
        y = b.mul(b.reshape(y, bs, t, inner), b.unary(UnaryFn.SILU, z));
        y = b.reshape(b.apply1(new RmsNorm(ctx.config().normEps(), false), b.reshape(y, bs, t, gr, inner / gr)), bs, t, inner);
        y = b.mul(y, b.param(name + ".norm.weight", Shape.of(inner), Init.ones(), "norm"));
        return ctx.projection(name + ".out_proj", y, ctx.dim());
    }

    /**
     * Mamba (Mamba-1, the selective scan as in Jamba): x, z = in_proj; x = SiLU(conv(x) + bias); dt, B, C =
     * x_proj (RMSNorm'd with weights when {@code dt_norm}); δ = softplus(dt_proj(dt) + bias); A = −exp(A_log)
     * [inner, N]. Per inner channel c, h_t = e^{δ_t[c]·A[c]} ⊙ h_{t−1} + δ_t[c] x_t[c] B_t, y_t[c] = C_t·h_t.
     * That is the {@code wkv} scan with one head per channel (key width N, value width 1): state S = h, k = B,
     * v = δ·x, decay exp(−exp(w)) with w = log δ + A_log, read-out r = C ⊙ decay (wkv reads the state before
     * the step) and no bonus, plus the current token's term (C_t·B_t) δ_t x_t. Then + D·x, ·SiLU(z), out_proj.
     */
    static Value mamba1(ModelContext ctx, String name, Value x, Mamba1Block spec) {
        ProgramBuilder b = ctx.builder();
        int bs = x.shape().dim(0), t = x.shape().dim(1), inner = spec.expand() * ctx.dim(), n = spec.dState(), dr = spec.dtRank();
        double eps = ctx.config().normEps();
        Value z = ctx.linear(name + ".in_proj_z", x, inner, 1, false);
        Value xs = conv(ctx, name + ".conv1d", ctx.linear(name + ".in_proj_x", x, inner, 1, false), spec.convSize(), true);
        Value dt = ctx.linear(name + ".x_proj_dt", xs, dr, 1, false);
        Value bm = ctx.linear(name + ".x_proj_B", xs, n, 1, false), cm = ctx.linear(name + ".x_proj_C", xs, n, 1, false);
        if (spec.dtNorm()) {
            dt = b.apply1(new RmsNorm(eps, true), dt, b.param(name + ".dt_norm.weight", Shape.of(dr), Init.ones(), "norm"));
            bm = b.apply1(new RmsNorm(eps, true), bm, b.param(name + ".B_norm.weight", Shape.of(n), Init.ones(), "norm"));
            cm = b.apply1(new RmsNorm(eps, true), cm, b.param(name + ".C_norm.weight", Shape.of(n), Init.ones(), "norm"));
        }
        Value dtBias = b.param(name + ".dt_proj.bias", Shape.of(inner), Init.linspace(invSoftplus(DT_MIN), invSoftplus(DT_MAX)), "control");
        Value dtRaw = b.add(ctx.linear(name + ".dt_proj", dt, inner, 1, false), dtBias);
        Value delta = b.unary(UnaryFn.SOFTPLUS, dtRaw);
        Value aLog = b.param(name + ".A_log", Shape.of(inner, n), Init.logArange(n), "control");
        Shape s4 = Shape.of(bs, t, inner, n);
        // w = log δ (over the state) + A_log (over the batch): the scan's decay is exp(−exp(w)) = e^{δ·A}
        Value w = b.add(b.apply1(new ExpandLast(n), b.unary(UnaryFn.LOG_SOFTPLUS, dtRaw)), b.apply1(new Broadcast(s4), aLog));
        Value decay = b.unary(UnaryFn.EXP, b.scale(b.unary(UnaryFn.EXP, w), -1));
        Value k = repeatBeforeLast(b, bm, inner), c4 = repeatBeforeLast(b, cm, inner);     // [B,T,N] -> [B,T,inner,N]
        Value v = b.mul(delta, xs);
        Value v4 = b.reshape(v, bs, t, inner, 1);
        Value r = b.mul(c4, decay);
        Value u = b.scale(aLog, 0);                                 // no bonus: the current token's term is added below
        Value y;
        if (ctx.decoding()) {
            Value st = b.state("cache." + name + ".ssm_state", Shape.of(bs, inner, n, 1), Init.zeros());
            y = b.apply(new Wkv(true), r, k, v4, w, u, st, ctx.position()).get(0);
        } else {
            y = b.apply1(new Wkv(false), r, k, v4, w, u);
        }
        y = b.reshape(y, bs, t, inner);
        Value cb = b.apply1(new SumLast(), b.mul(cm, bm));                 // C_t·B_t [B,T]
        y = b.add(y, b.mul(b.apply1(new ExpandLast(inner), cb), v));
        Value d = b.param(name + ".D", Shape.of(inner), Init.ones(), "control");
        y = b.add(y, b.mul(xs, d));
        y = b.mul(y, b.unary(UnaryFn.SILU, z));
        return ctx.projection(name + ".out_proj", y, ctx.dim());
    }

    /** g = −exp(A_log)·softplus(raw + dt_bias) per head: the log of the decay α ∈ (0, 1). */
    private static Value decay(ModelContext ctx, String name, Value raw, int h) {
        ProgramBuilder b = ctx.builder();
        Value dtBias = b.param(name + ".dt_bias", Shape.of(h), Init.linspace(invSoftplus(DT_MIN), invSoftplus(DT_MAX)), "control");
        Value aLog = b.param(name + ".A_log", Shape.of(h), Init.linspace(Math.log(A_MIN), Math.log(A_MAX)), "control");
        return b.mul(b.unary(UnaryFn.SOFTPLUS, b.add(raw, dtBias)), b.scale(b.unary(UnaryFn.EXP, aLog), -1));
    }

    /**
     * SiLU(causal depthwise conv(x) [+ bias]) over [B,T,C] with weight {@code <name>.weight [C,K]};
     * in a decode program the last K-1 inputs live in {@code cache.<name>.state [B,K-1,C]}.
     */
    private static Value conv(ModelContext ctx, String name, Value x, int k, boolean bias) {
        ProgramBuilder b = ctx.builder();
        int c = x.shape().last();
        Value w = b.param(name + ".weight", Shape.of(c, k), Init.normal(1 / Math.sqrt(3.0 * k)), "conv");
        Value y;
        if (ctx.decoding()) {
            Value st = b.state("cache." + name + ".state", Shape.of(x.shape().dim(0), k - 1, c), Init.zeros());
            y = b.apply(new CausalConv(true), x, w, st, ctx.position()).get(0);
        } else {
            y = b.apply1(new CausalConv(false), x, w);
        }
        if (bias) y = b.add(y, b.param(name + ".bias", Shape.of(c), Init.zeros(), "bias"));
        return b.unary(UnaryFn.SILU, y);
    }
}
