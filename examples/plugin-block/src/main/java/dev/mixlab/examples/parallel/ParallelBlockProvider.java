package dev.mixlab.examples.parallel;

import dev.mixlab.arch.BlockProvider;
import dev.mixlab.arch.Blocks;
import dev.mixlab.arch.ModelContext;
import dev.mixlab.config.Activation;
import dev.mixlab.config.BlockField;
import dev.mixlab.config.BlockFields;
import dev.mixlab.config.FfnType;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.ir.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code "type": "parallel"}: GPT-J's parallel block, {@code x + attn(norm(x)) + ffn(norm(x))} with one
 * shared norm, so attention and the FFN read the same input. Built from mixlab's own attention, norm
 * and FFN helpers, so it runs on every backend, trains, checkpoints, counts and decodes.
 */
public final class ParallelBlockProvider implements BlockProvider<ParallelBlockProvider.Spec> {
    /** The parsed fields; {@code attention} carries the attention options for {@link Blocks#attention}. */
    public record Spec(PlainBlock attention, FfnType ffn, Activation activation, double mlpMult) {}

    @Override public String type() {
        return "parallel";
    }

    @Override public List<BlockField> fields() {
        return List.of(
                BlockField.required("heads", "integer > 0, divides model_dim", "Attention heads."),
                BlockField.optional("kv_heads", "integer >= 0, divides heads; 0 = heads", 0, "Key/value heads."),
                BlockField.optional("ffn", "mlp or swiglu", "mlp", "FFN tail, in parallel with attention."),
                BlockField.optional("activation", "gelu, gelu_tanh, relu, silu or relu2", "gelu", "Nonlinearity of the mlp tail."),
                BlockField.optional("window_size", "integer >= 0", 0, "Sliding-window attention; 0 = full causal."));
    }

    @Override public Spec parse(BlockFields f) {
        int heads = f.integer("heads"), kv = f.integer("kv_heads"), window = f.integer("window_size");
        f.check(heads > 0 && f.modelDim() % heads == 0, "heads", heads + " does not divide model_dim " + f.modelDim(),
                "choose heads so that model_dim % heads == 0");
        int kvHeads = kv == 0 ? heads : kv;
        f.check(kvHeads > 0 && heads % kvHeads == 0, "kv_heads", kvHeads + " does not divide heads " + heads, "use a divisor of heads");
        f.check(window >= 0, "window_size", "window_size " + window + " is negative", "use 0 or a positive window");
        FfnType ffn = choice(f, "ffn", FfnType.values());
        f.check(ffn != FfnType.NONE, "ffn", "a parallel block needs an FFN", "use mlp or swiglu");
        Activation act = choice(f, "activation", Activation.values());
        PlainBlock attention = new PlainBlock(heads, kvHeads, f.modelDim() / heads, act, ffn, f.mlpMult(), 1, window);
        return new Spec(attention, ffn, act, f.mlpMult());
    }

    /** The enum constant spelled {@code f.string(key)} (lower case, as in configs), or a one-line config error. */
    private static <E extends Enum<E>> E choice(BlockFields f, String key, E[] values) {
        String s = f.string(key);
        for (E e : values) if (e.name().toLowerCase(Locale.ROOT).equals(s)) return e;
        f.check(false, key, "unknown " + key + " \"" + s + "\"",
                "use one of " + String.join(", ", Arrays.stream(values).map(e -> e.name().toLowerCase(Locale.ROOT)).toList()));
        throw new AssertionError("unreachable");
    }

    @Override public Value apply(ModelContext ctx, Spec spec, int layer, Value x) {
        String p = "blocks." + layer;
        Value h = Blocks.norm(ctx, p + ".attn_norm", x);
        Value a = Blocks.attention(ctx, p + ".attn", h, spec.attention(), layer);
        Value m = Blocks.ffn(ctx, p + ".mlp", h, spec.ffn(), spec.activation(), spec.mlpMult());
        return Blocks.residual(ctx, p + ".mlp_scale", Blocks.residual(ctx, p + ".attn_scale", x, a), m);
    }
}
