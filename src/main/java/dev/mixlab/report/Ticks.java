package dev.mixlab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** "Nice" axis ticks (1, 2, 5 × 10^k) and their labels. */
final class Ticks {
    private Ticks() {}

    /** About {@code target} ticks covering [lo, hi], all inside it. */
    static double[] of(double lo, double hi, int target) {
        double step = step(lo, hi, target);
        List<Double> t = new ArrayList<>();
        double first = Math.ceil(lo / step - 1e-9) * step;
        for (double v = first; v <= hi + step * 1e-9 && t.size() < 100; v += step) t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double step(double lo, double hi, int target) {
        double raw = (hi - lo) / Math.max(1, target);
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double r = raw / mag;
        return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    }

    private static final String[] SI = {"", "k", "M", "G", "T", "P", "E"};

    /**
     * A tick label: plain numbers when the axis stays below 10,000, else one SI unit for the whole
     * axis, chosen from its largest value (2k, 1.5M, 0.5G).
     */
    static String label(double v, double step, double axisMax) {
        if (v == 0) return "0";
        int k = 0;
        double m = Math.abs(axisMax);
        if (m >= 1e4) k = Math.min(SI.length - 1, (int) Math.floor(Math.log10(m) / 3 + 1e-9));
        double div = Math.pow(1000, k);
        int dec = Math.max(0, (int) -Math.floor(Math.log10(step / div) + 1e-9));
        return String.format(Locale.ROOT, "%." + Math.min(dec, 6) + "f", v / div) + SI[k];
    }
}
