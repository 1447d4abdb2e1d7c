package dev.mixlab.arch;

import dev.mixlab.config.BlockField;
import dev.mixlab.config.BlockFields;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.UnaryFn;
import dev.mixlab.ir.Value;
import java.util.Arrays;
import java.util.List;

/**
 * A test-scope plug-in block, registered in {@code src/test/resources/META-INF/services}: a gated
 * MLP {@code x + proj(act(gate(n)) ⊙ up(n))} with {@code n = norm(x)} and a configurable gate
 * activation (GEGLU by default), built from existing ops only.
 */
public final class GatedMlpProvider implements BlockProvider<GatedMlpProvider.Spec> {
    /** The parsed fields: the gate's nonlinearity and the hidden width multiplier. */
    public record Spec(UnaryFn gate, double mlpMult) {}

    @Override public String type() {
        return "gated_mlp";
    }

    @Override public List<BlockField> fields() {
        return List.of(BlockField.optional("gate", "one of gelu, gelu_tanh, relu, silu, relu2, tanh", "gelu",
                "Nonlinearity of the gate branch."));
    }

    @Override public Spec parse(BlockFields f) {
        String g = f.string("gate");
        List<String> names = Arrays.stream(UnaryFn.values()).map(UnaryFn::jsonName).toList();
        f.check(names.contains(g), "gate", "unknown gate \"" + g + "\"", "use one of " + String.join(", ", names));
        return new Spec(UnaryFn.valueOf(g.toUpperCase(java.util.Locale.ROOT)), f.mlpMult());
    }

    @Override public Value apply(ModelContext ctx, Spec spec, int layer, Value x) {
        ProgramBuilder b = ctx.builder();
        String p = "blocks." + layer;
        Value n = Blocks.norm(ctx, p + ".mlp_norm", x);
        int hidden = (int) Math.round(ctx.dim() * spec.mlpMult());
        Value gate = b.unary(spec.gate(), ctx.linear(p + ".mlp.gate", n, hidden, 1));
        Value up = ctx.linear(p + ".mlp.up", n, hidden, 1);
        return Blocks.residual(ctx, p + ".mlp_scale", x, ctx.projection(p + ".mlp.proj", b.mul(gate, up), ctx.dim()));
    }
}
