package dev.mixlab.arch;

import dev.mixlab.config.PositionalEmbedding;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.LayerNorm;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Retention;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;
import java.util.List;

/**
 * RetNet's multi-scale retention (Sun et al. 2023, eq. 8): per head h, retention with decay
 * γ_h = 1 − 2^(−5−h) of q, k (scaled by dk^−1/2, rotated by the model's RoPE if configured) and v;
 * a group norm over each head (LayerNorm without affine weights, as torchscale's); the swish gate
 * swish(x·W_G); the output projection W_O. torchscale's extra row normalisations of the parallel form
 * scale each (position, head) row by a positive constant, which the group norm removes (up to its
 * eps), so they are left out. In a decoding program the state S [B,H,dk,dv] lives in the cache.
 */
final class MultiScaleRetention {
    private MultiScaleRetention() {}

    static Value apply(ModelContext ctx, String name, Value x, int heads, int dk, int dv) {
        ProgramBuilder b = ctx.builder();
        var c = ctx.config();
        int bsz = x.shape().dim(0), t = x.shape().dim(1);
        Value q = b.reshape(ctx.linear(name + ".q", x, heads * dk, 1), bsz, t, heads, dk);
        Value k = b.reshape(ctx.linear(name + ".k", x, heads * dk, 1), bsz, t, heads, dk);
        Value v = b.reshape(ctx.linear(name + ".v", x, heads * dv, 1), bsz, t, heads, dv);
        if (c.positionalEmbedding() == PositionalEmbedding.ROPE) {
            Rope rope = new Rope(c.ropeBase(), c.ropeDims(dk), c.ropeInterleaved(), false);
            q = ctx.decoding() ? b.apply1(rope, q, ctx.position()) : b.apply1(rope, q);
            k = ctx.decoding() ? b.apply1(rope, k, ctx.position()) : b.apply1(rope, k);
        }
        k = b.scale(k, 1 / Math.sqrt(dk));
        List<Double> gammas = Retention.retnetGammas(heads);
        Value y;
        if (ctx.decoding()) {
            Value state = b.state("cache." + name + ".s", Shape.of(bsz, heads, dk, dv), Init.zeros());
            y = b.apply(new Retention(gammas, true), q, k, v, state, ctx.position()).get(0);
        } else {
            y = b.apply1(new Retention(gammas), q, k, v);
        }
        y = b.reshape(b.apply1(new LayerNorm(c.normEps(), false, false), y), bsz, t, heads * dv);
        Value gate = b.unary(UnaryFn.SILU, ctx.linear(name + ".gate", x, heads * dv, 1));
        return ctx.projection(name + ".proj", b.mul(gate, y), ctx.dim());
    }
}
