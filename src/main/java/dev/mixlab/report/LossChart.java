package dev.mixlab.report;

import java.util.ArrayList;
import java.util.List;

/**
 * One panel: train loss (dashed) and validation loss (solid) of every config against one axis;
 * a config with several seeds is its mean line with a min–max band. Draws on any {@link Canvas}.
 */
final class LossChart {
    private LossChart() {}

    static final int[] PALETTE = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    static final double[] TRAIN_DASH = {5, 3};
    private static final int INK = 0x222222, GRID = 0xe6e6e6, FRAME = 0x999999, MUTED = 0x555555;

    static int colour(int i) {
        return PALETTE[i % PALETTE.length];
    }

    /** Whether any config has a point to draw against this axis. */
    static boolean hasData(List<Group> groups, Axis axis) {
        for (Group g : groups) if (Curve.of(g, axis, false).size() + Curve.of(g, axis, true).size() > 0) return true;
        return false;
    }

    static void draw(Canvas c, List<Group> groups, Axis axis, int w, int h) {
        double left = 62, right = w - 14, top = 30, bottom = h - 44;
        c.rect(0, 0, w, h, 0xffffff);
        c.text(left, 19, "loss vs " + axis.label, 14, Canvas.Anchor.START, INK, true, false);
        record Drawn(Group g, Curve train, Curve val) {}
        List<Drawn> ds = new ArrayList<>();
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Group g : groups) {
            Drawn d = new Drawn(g, Curve.of(g, axis, false), Curve.of(g, axis, true));
            if (d.train.size() + d.val.size() == 0) continue;
            ds.add(d);
            for (Curve cv : List.of(d.train, d.val)) {
                for (int i = 0; i < cv.size(); i++) {
                    x0 = Math.min(x0, cv.x()[i]);
                    x1 = Math.max(x1, cv.x()[i]);
                    y0 = Math.min(y0, cv.lo()[i]);
                    y1 = Math.max(y1, cv.hi()[i]);
                }
            }
        }
        if (ds.isEmpty()) {
            c.text(w / 2.0, h / 2.0, "no logged points", 13, Canvas.Anchor.MIDDLE, MUTED, false, false);
            return;
        }
        x0 = Math.min(0, x0);
        if (!(x1 > x0)) x1 = x0 + 1;
        double pad = (y1 - y0) * 0.05;
        if (!(pad > 0)) pad = Math.max(0.05, Math.abs(y0) * 0.05);
        y0 -= pad;
        y1 += pad;
        final double fx0 = x0, fx1 = x1, fy0 = y0, fy1 = y1;
        java.util.function.DoubleUnaryOperator sx = v -> left + (v - fx0) / (fx1 - fx0) * (right - left);
        java.util.function.DoubleUnaryOperator sy = v -> bottom - (v - fy0) / (fy1 - fy0) * (bottom - top);

        // grid, ticks, labels
        double xs = Ticks.step(x0, x1, 5), ys = Ticks.step(y0, y1, 6);
        for (double t : Ticks.of(x0, x1, 5)) {
            double px = sx.applyAsDouble(t);
            c.segment(px, top, px, bottom, GRID, 1);
            c.segment(px, bottom, px, bottom + 4, FRAME, 1);
            c.text(px, bottom + 17, Ticks.label(t, xs, Math.max(Math.abs(x0), Math.abs(x1))), 11, Canvas.Anchor.MIDDLE, MUTED, false, false);
        }
        for (double t : Ticks.of(y0, y1, 6)) {
            double py = sy.applyAsDouble(t);
            c.segment(left, py, right, py, GRID, 1);
            c.segment(left - 4, py, left, py, FRAME, 1);
            c.text(left - 7, py + 4, Ticks.label(t, ys, Math.max(Math.abs(y0), Math.abs(y1))), 11, Canvas.Anchor.END, MUTED, false, false);
        }
        c.line(new double[] {left, left, right}, new double[] {top, bottom, bottom}, FRAME, 1, null, "axis");
        c.text((left + right) / 2, h - 8, axis.label, 12, Canvas.Anchor.MIDDLE, INK, false, false);
        c.text(16, (top + bottom) / 2, "loss", 12, Canvas.Anchor.MIDDLE, INK, false, true);

        // bands first, then lines on top
        for (Drawn d : ds) {
            int col = colour(d.g.colour());
            for (Curve cv : List.of(d.train, d.val)) {
                if (cv.maxSeeds() < 2 || cv.size() < 2) continue;
                int n = cv.size();
                double[] px = new double[2 * n], py = new double[2 * n];
                for (int i = 0; i < n; i++) {
                    px[i] = sx.applyAsDouble(cv.x()[i]);
                    py[i] = sy.applyAsDouble(cv.hi()[i]);
                    px[2 * n - 1 - i] = px[i];
                    py[2 * n - 1 - i] = sy.applyAsDouble(cv.lo()[i]);
                }
                c.polygon(px, py, col, cv == d.val ? 0.22 : 0.12);
            }
        }
        for (Drawn d : ds) {
            int col = colour(d.g.colour());
            series(c, d.train, col, 1.4, TRAIN_DASH, "series train g" + d.g.colour(), sx, sy);
            series(c, d.val, col, 2.4, null, "series val g" + d.g.colour(), sx, sy);
        }

        // legend, top right inside the plot (losses fall, so that corner is usually empty)
        List<String> labels = new ArrayList<>();
        for (Drawn d : ds) labels.add(d.g.label() + (d.g.runs().size() > 1 ? " (" + d.g.runs().size() + " seeds)" : ""));
        int longest = "- - train".length();
        for (String s : labels) longest = Math.max(longest, s.length());
        double lw = 34 + longest * 6.6, lh = 16.0 * (labels.size() + 1) + 8;
        double lx = right - lw - 6, ly = top + 6;
        c.rect(lx, ly, lw, lh, 0xffffff);
        double[] frameX = {lx, lx + lw, lx + lw, lx, lx}, frameY = {ly, ly, ly + lh, ly + lh, ly};
        c.line(frameX, frameY, GRID, 1, null, "legend-frame");
        for (int i = 0; i < labels.size(); i++) {
            double yy = ly + 14 + 16 * i;
            c.line(new double[] {lx + 6, lx + 26}, new double[] {yy - 4, yy - 4}, colour(ds.get(i).g.colour()), 3, null, "legend-swatch");
            c.text(lx + 32, yy, labels.get(i), 11, Canvas.Anchor.START, INK, false, false);
        }
        double yy = ly + 14 + 16 * labels.size();
        c.line(new double[] {lx + 6, lx + 18}, new double[] {yy - 4, yy - 4}, MUTED, 2, null, "legend-key");
        c.text(lx + 21, yy, "val", 11, Canvas.Anchor.START, MUTED, false, false);
        c.line(new double[] {lx + 46, lx + 66}, new double[] {yy - 4, yy - 4}, MUTED, 1.4, TRAIN_DASH, "legend-key");
        c.text(lx + 69, yy, "train", 11, Canvas.Anchor.START, MUTED, false, false);
    }

    private static void series(Canvas c, Curve cv, int col, double width, double[] dash, String cls,
                               java.util.function.DoubleUnaryOperator sx, java.util.function.DoubleUnaryOperator sy) {
        int n = cv.size();
        if (n == 0) return;
        double[] px = new double[n], py = new double[n];
        for (int i = 0; i < n; i++) {
            px[i] = sx.applyAsDouble(cv.x()[i]);
            py[i] = sy.applyAsDouble(cv.mean()[i]);
        }
        if (n == 1) c.rect(px[0] - 2.5, py[0] - 2.5, 5, 5, col);
        else c.line(px, py, col, width, dash, cls);
    }
}
