package dev.mixlab.arch;

import dev.mixlab.ir.Init;
import dev.mixlab.ir.LayerNorm;
import dev.mixlab.ir.Mlstm;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;

/**
 * xLSTM's mLSTM layer (Beck et al. 2024, the cell of eqs. 19–27, multi-head): q, k (scaled by
 * dk^−1/2), v from linear maps; per head an exponential input gate and a sigmoid forget gate from
 * {@code x·w + b}; the stabilised matrix memory ({@link Mlstm}); a LayerNorm per head without affine
 * weights (the official MultiHeadLayerNorm); the sigmoid output gate; the output projection. Gate
 * weights start at zero, the input-gate bias normal(0.1) and the forget-gate bias linspace(3, 6) over
 * the heads, as the official code. In a decoding program the state (C, n, m) lives in the cache.
 */
final class MatrixLstm {
    private MatrixLstm() {}

    static Value apply(ModelContext ctx, String name, Value x, int heads, int hd) {
        ProgramBuilder b = ctx.builder();
        var c = ctx.config();
        int bsz = x.shape().dim(0), t = x.shape().dim(1), d = ctx.dim();
        Value q = b.reshape(ctx.linear(name + ".q", x, heads * hd, 1), bsz, t, heads, hd);
        Value k = b.scale(b.reshape(ctx.linear(name + ".k", x, heads * hd, 1), bsz, t, heads, hd), 1 / Math.sqrt(hd));
        Value v = b.reshape(ctx.linear(name + ".v", x, heads * hd, 1), bsz, t, heads, hd);
        Value ig = gate(ctx, name + ".igate", x, heads, Init.normal(0.1));
        Value fg = gate(ctx, name + ".fgate", x, heads, Init.linspace(3, 6));
        Value h;
        if (ctx.decoding()) {
            Value state = b.state("cache." + name + ".s", Shape.of(bsz, heads, Mlstm.stateSize(hd, hd)), Init.zeros());
            h = b.apply(new Mlstm(true), q, k, v, ig, fg, state, ctx.position()).get(0);
        } else {
            h = b.apply1(new Mlstm(), q, k, v, ig, fg);
        }
        h = b.reshape(b.apply1(new LayerNorm(c.normEps(), false, false), h), bsz, t, heads * hd);
        Value o = b.unary(UnaryFn.SIGMOID, ctx.linear(name + ".ogate", x, heads * hd, 1));
        return ctx.projection(name + ".proj", b.mul(o, h), d);
    }

    /** A per-head gate pre-activation {@code x·wᵀ + b} [B,T,H]: weight [H,D] initialised to zero, bias as given. */
    private static Value gate(ModelContext ctx, String name, Value x, int heads, Init bias) {
        ProgramBuilder b = ctx.builder();
        Value w = b.param(name + ".weight", Shape.of(heads, x.shape().last()), Init.zeros(), "matrix");
        return b.add(b.linear(x, w), b.param(name + ".bias", Shape.of(heads), bias, "bias"));
    }
}
