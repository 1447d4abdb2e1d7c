package dev.mixlab.arch;

import dev.mixlab.config.NormType;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.LayerNorm;
import dev.mixlab.ir.RmsNorm;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;
import java.util.ArrayList;
import java.util.List;

/** The model's normalisation layer as the config chooses it (layernorm or rmsnorm, gain, bias). */
final class Norms {
    private Norms() {}

    static Value apply(ModelContext ctx, String name, Value x) {
        var c = ctx.config();
        var b = ctx.builder();
        int d = x.shape().last();
        List<Value> args = new ArrayList<>(List.of(x));
        if (c.normWeight()) args.add(b.param(name + ".weight", Shape.of(d), Init.ones(), "norm"));
        if (c.normType() == NormType.LAYERNORM) {
            if (c.bias()) args.add(b.param(name + ".bias", Shape.of(d), Init.zeros(), "bias"));
            return b.apply1(new LayerNorm(c.normEps(), c.normWeight(), c.bias()), args.toArray(Value[]::new));
        }
        return b.apply1(new RmsNorm(c.normEps(), c.normWeight()), args.toArray(Value[]::new));
    }
}
