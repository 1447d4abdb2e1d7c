package dev.mixlab.arch;

import dev.mixlab.ir.Init;
import dev.mixlab.ir.LayerNorm;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TokenShift;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;
import dev.mixlab.ir.Wkv;

/**
 * RWKV-6 "Finch" (Peng et al. 2024; RWKV-LM's RWKV_Tmix_x060 and RWKV_CMix_x060). Time mixing:
 * xx = shift(x) − x; the five interpolations x + xx⊙(μ_c + LoRA_c(x + xx⊙μ_x)) (ddlerp, LoRA_c(z) =
 * tanh(z·A_cᵀ)·B_cᵀ) feed r, k, v, the gate g = silu(W_g x_g) and the raw decay w = w_0 + LoRA_d(x_w);
 * {@link Wkv} with the bonus u; a group norm per head (ln_x: LayerNorm over the head, eps 64e-5,
 * then a per-channel weight and bias); the output projection of (norm ⊙ g). Channel mixing:
 * σ(W_r x_r) ⊙ W_v relu(W_k x_k)² with x_c = x + xx⊙μ_c. In a decoding program each token shift
 * keeps the last row and the wkv its state in the cache.
 *
 * <p>Initialisation (simplified from RWKV-LM's per-channel ratio formulas): every μ 0.5, w_0
 * linspace(−6, −1) over the channels (RWKV-LM: −6 + 5·(n/(C−1))^(0.7+1.3·r)), u 0.5, LoRA A zero and
 * LoRA B normal(0.01), ln_x weight 1 and bias 0, linear maps normal(init_std).
 */
final class Rwkv6 {
    private Rwkv6() {}

    private static final String[] MIX = {"w", "k", "v", "r", "g"};

    /** Group-norm eps of ln_x: 1e-5 · head_size_divisor² with RWKV-LM's divisor 8. */
    static final double LN_X_EPS = 64e-5;

    static Value timeMix(ModelContext ctx, String name, Value x, int headSize, int mixLora, int decayLora) {
        ProgramBuilder b = ctx.builder();
        int bsz = x.shape().dim(0), t = x.shape().dim(1), d = ctx.dim(), heads = d / headSize;
        Value xx = b.add(shift(ctx, name, x), b.scale(x, -1));
        Value xxx = b.add(x, b.mul(xx, mu(ctx, name + ".maa_x")));
        Value[] mixed = new Value[MIX.length];
        for (int i = 0; i < MIX.length; i++) {
            Value m = b.add(lora(ctx, name + ".maa_lora." + MIX[i], xxx, mixLora), mu(ctx, name + ".maa_" + MIX[i]));
            mixed[i] = b.add(x, b.mul(xx, m));
        }
        Value r = b.reshape(ctx.linear(name + ".receptance", mixed[3], d, 1, false), bsz, t, heads, headSize);
        Value k = b.reshape(ctx.linear(name + ".key", mixed[1], d, 1, false), bsz, t, heads, headSize);
        Value v = b.reshape(ctx.linear(name + ".value", mixed[2], d, 1, false), bsz, t, heads, headSize);
        Value g = b.unary(UnaryFn.SILU, ctx.linear(name + ".gate", mixed[4], d, 1, false));
        Value w0 = b.param(name + ".time_decay", Shape.of(d), Init.linspace(-6, -1), "control");
        Value w = b.reshape(b.add(lora(ctx, name + ".decay_lora", mixed[0], decayLora), w0), bsz, t, heads, headSize);
        // u per channel [D] (rank 1: no weight decay, never a Muon matrix), read per head as [H, hs]
        Value u = b.reshape(b.param(name + ".time_faaaa", Shape.of(d), Init.constant(0.5), "control"), heads, headSize);
        Value y;
        if (ctx.decoding()) {
            Value state = b.state("cache." + name + ".s", Shape.of(bsz, heads, headSize, headSize), Init.zeros());
            y = b.apply(new Wkv(true), r, k, v, w, u, state, ctx.position()).get(0);
        } else {
            y = b.apply1(new Wkv(), r, k, v, w, u);
        }
        y = b.reshape(b.apply1(new LayerNorm(LN_X_EPS, false, false), y), bsz, t, d);
        y = b.add(b.mul(y, b.param(name + ".ln_x.weight", Shape.of(d), Init.ones(), "norm")),
                b.param(name + ".ln_x.bias", Shape.of(d), Init.zeros(), "bias"));
        return ctx.projection(name + ".output", b.mul(y, g), d);
    }

    static Value channelMix(ModelContext ctx, String name, Value x, double mult) {
        ProgramBuilder b = ctx.builder();
        int d = ctx.dim();
        Value xx = b.add(shift(ctx, name, x), b.scale(x, -1));
        Value xk = b.add(x, b.mul(xx, mu(ctx, name + ".maa_k")));
        Value xr = b.add(x, b.mul(xx, mu(ctx, name + ".maa_r")));
        Value k = b.unary(UnaryFn.RELU2, ctx.linear(name + ".key", xk, FeedForward.hidden(ctx, mult), 1, false));
        Value kv = ctx.projection(name + ".value", k, d);
        return b.mul(b.unary(UnaryFn.SIGMOID, ctx.linear(name + ".receptance", xr, d, 1, false)), kv);
    }

    /** x_{t−1} (zero before the first token; in a decoding program the previous call's last row). */
    private static Value shift(ModelContext ctx, String name, Value x) {
        ProgramBuilder b = ctx.builder();
        if (!ctx.decoding()) return b.apply1(new TokenShift(), x);
        Value state = b.state("cache." + name + ".shift", Shape.of(x.shape().dim(0), x.shape().dim(2)), Init.zeros());
        return b.apply(new TokenShift(false, true), x, state, ctx.position()).get(0);
    }

    /** A per-channel interpolation weight μ [D], 0.5 at init. */
    private static Value mu(ModelContext ctx, String name) {
        return ctx.builder().param(name, Shape.of(ctx.dim()), Init.constant(0.5), "control");
    }

    /** tanh(x·Aᵀ)·Bᵀ with A [rank, D] zero at init and B [D, rank] normal(0.01). */
    private static Value lora(ModelContext ctx, String name, Value x, int rank) {
        ProgramBuilder b = ctx.builder();
        Value a = b.param(name + ".a.weight", Shape.of(rank, ctx.dim()), Init.zeros(), "matrix");
        Value bw = b.param(name + ".b.weight", Shape.of(ctx.dim(), rank), Init.normal(0.01), "matrix");
        return b.linear(b.unary(UnaryFn.TANH, b.linear(x, a)), bw);
    }
}
