package dev.mixlab.train;

import dev.mixlab.backend.Executable;
import dev.mixlab.data.SplitMix64;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Initial values of parameters and state from the run's seed. Each tensor draws from its own
 * generator, seeded from the run seed and the tensor's name, so adding a layer does not change
 * the initial weights of the others.
 */
public final class ParamInit {
    private ParamInit() {}

    /** Fresh initial values of every parameter and state tensor of {@code p}. */
    public static Map<String, float[]> values(Program p, long seed) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (List<Value> g : List.of(p.params(), p.state())) {
            for (Value v : g) out.put(v.name(), fill(v, seed));
        }
        return out;
    }

    /** Sets every parameter and state tensor of {@code e} to its initial value. */
    public static void apply(Executable e, long seed) {
        values(e.program(), seed).forEach(e::setFloats);
    }

    static float[] fill(Value v, long seed) {
        float[] a = new float[v.shape().intSize()];
        switch (v.init()) {
            case Init.Constant c -> java.util.Arrays.fill(a, (float) c.value());
            case Init.Linspace l -> {
                for (int i = 0; i < a.length; i++) a[i] = (float) (a.length == 1 ? l.from() : l.from() + (l.to() - l.from()) * i / (a.length - 1));
            }
            case Init.LogArange l -> {
                for (int i = 0; i < a.length; i++) a[i] = (float) Math.log(i % l.n() + 1);
            }
            case Init.Normal n -> {
                SplitMix64 r = new SplitMix64(seed * 0x9E3779B97F4A7C15L ^ v.name().hashCode());
                for (int i = 0; i < a.length; i += 2) {
                    // Box–Muller: two normals from two uniforms in (0,1].
                    double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
                    double rad = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
                    a[i] = (float) (n.std() * rad * Math.cos(th));
                    if (i + 1 < a.length) a[i + 1] = (float) (n.std() * rad * Math.sin(th));
                }
            }
        }
        return a;
    }
}
