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

    /** A tick label: plain below 10,000, else with an SI suffix (12k, 1.5M, 3T). */
    static String label(double v, double step) {
        double a = Math.abs(v);
        int k = 0;
        if (Math.max(a, step) >= 1e4) {
            while (k < SI.length - 1 && Math.max(a, step) >= 1e4 * Math.pow(1000, k)) k++;
            k = Math.min(k, SI.length - 1);
        }
        double div = Math.pow(1000, k);
        int dec = Math.max(0, (int) -Math.floor(Math.log10(step / div) + 1e-9));
        return String.format(Locale.ROOT, "%." + Math.min(dec, 6) + "f", v / div) + SI[k];
    }
}
