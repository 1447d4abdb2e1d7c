package dev.mixlab.arch;

import dev.mixlab.config.Activation;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;

/** The FFN tails: an activation MLP ({@code fc → act → proj}) and SwiGLU ({@code silu(gate)·up → proj}). */
final class FeedForward {
    private FeedForward() {}

    static int hidden(ModelContext ctx, double mult) {
        return (int) Math.round(ctx.dim() * mult);
    }

    static Value mlp(ModelContext ctx, String name, Value x, Activation act, double mult) {
        ProgramBuilder b = ctx.builder();
        Value h = b.unary(fn(act), ctx.linear(name + ".fc", x, hidden(ctx, mult), 1));
        return ctx.projection(name + ".proj", h, ctx.dim());
    }

    static Value swiglu(ModelContext ctx, String name, Value x, double mult) {
        ProgramBuilder b = ctx.builder();
        int hid = hidden(ctx, mult);
        Value gate = b.unary(UnaryFn.SILU, ctx.linear(name + ".gate", x, hid, 1));
        Value up = ctx.linear(name + ".up", x, hid, 1);
        return ctx.projection(name + ".proj", b.mul(gate, up), ctx.dim());
    }

    static UnaryFn fn(Activation a) {
        return switch (a) {
            case GELU -> UnaryFn.GELU;
            case GELU_TANH -> UnaryFn.GELU_TANH;
            case RELU -> UnaryFn.RELU;
            case SILU -> UnaryFn.SILU;
            case RELU2 -> UnaryFn.RELU2;
        };
    }
}
