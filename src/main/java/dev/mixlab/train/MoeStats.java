package dev.mixlab.train;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.backend.Executable;
import dev.mixlab.ir.Program;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Mixture-of-experts numbers of one validation pass: per layer, the expert loads (tokens that chose
 * each expert) and the assignments dropped by the capacity limit, summed over the eval batches.
 * Written as one log line and as {@code moe_dropped}, {@code moe_assignments} and {@code moe_load}
 * ({@code {"<layer>": [loads]}}) in the metrics.
 */
final class MoeStats {
    private final List<Integer> layers = new ArrayList<>();
    private final List<double[]> load = new ArrayList<>();
    private double dropped;

    /** The MoE layers that {@code eval} reports (none for a dense model). */
    MoeStats(Program eval) {
        // one entry per layer in layer order: layer l reports under moeLoad(l)
        for (int l = 0; l < eval.nodes().size(); l++) {
            var v = eval.outputs().get(Programs.moeLoad(l));
            if (v != null) {
                layers.add(l);
                load.add(new double[v.shape().intSize()]);
            }
        }
    }

    boolean any() {
        return !layers.isEmpty();
    }

    void reset() {
        for (double[] a : load) java.util.Arrays.fill(a, 0);
        dropped = 0;
    }

    /** Adds the counts of the eval batch that {@code eval} just ran. */
    void add(Executable eval) {
        for (int i = 0; i < layers.size(); i++) {
            float[] f = eval.getFloats(Programs.moeLoad(layers.get(i)));
            for (int e = 0; e < f.length; e++) load.get(i)[e] += f[e];
            dropped += eval.scalar(Programs.moeDropped(layers.get(i)));
        }
    }

    private double assignments() {
        double s = 0;
        for (double[] a : load) for (double v : a) s += v;
        return s;
    }

    /** E.g. {@code moe | dropped 12/4096 | load L0 530 470 ... | L1 ...}. */
    String line() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "moe | dropped %.0f/%.0f", dropped, assignments()));
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? " | load" : " |").append(" L").append(layers.get(i));
            for (double v : load.get(i)) sb.append(' ').append(String.format(Locale.ROOT, "%.0f", v));
        }
        return sb.toString();
    }

    void put(ObjectNode m) {
        m.put("moe_dropped", dropped).put("moe_assignments", assignments());
        ObjectNode byLayer = m.putObject("moe_load");
        for (int i = 0; i < layers.size(); i++) {
            ArrayNode a = byLayer.putArray(Integer.toString(layers.get(i)));
            for (double v : load.get(i)) a.add(v);
        }
    }
}
