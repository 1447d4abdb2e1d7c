package dev.mixlab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * One config's loss against one axis, over its seeds: at each logged step the mean x, and the
 * mean, min and max loss of the seeds that logged that step.
 */
public record Curve(double[] x, double[] mean, double[] lo, double[] hi, int maxSeeds) {

    public int size() {
        return x.length;
    }

    /** @param val true for the validation loss, false for the training loss */
    public static Curve of(Group g, Axis axis, boolean val) {
        TreeMap<Long, List<double[]>> byStep = new TreeMap<>();
        for (Run r : g.runs()) {
            for (Point p : r.points()) {
                double y = val ? p.valLoss() : p.loss();
                double x = axis.x(p, g.flopsPerToken());
                if (Double.isFinite(y) && Double.isFinite(x)) byStep.computeIfAbsent(p.step(), k -> new ArrayList<>()).add(new double[] {x, y});
            }
        }
        int n = byStep.size();
        double[] xs = new double[n], mean = new double[n], lo = new double[n], hi = new double[n];
        int i = 0;
        for (List<double[]> ps : byStep.values()) {
            double sx = 0, sy = 0, mn = Double.POSITIVE_INFINITY, mx = Double.NEGATIVE_INFINITY;
            for (double[] p : ps) {
                sx += p[0];
                sy += p[1];
                mn = Math.min(mn, p[1]);
                mx = Math.max(mx, p[1]);
            }
            xs[i] = sx / ps.size();
            mean[i] = sy / ps.size();
            lo[i] = mn;
            hi[i] = mx;
            i++;
        }
        return new Curve(xs, mean, lo, hi, g.runs().size());
    }
}
