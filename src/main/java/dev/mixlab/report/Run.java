package dev.mixlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.nio.file.Path;
import java.util.List;

/**
 * A run directory as read back: the resolved config, the logged points and the summary. Any of
 * them may be missing ({@link MissingNode}, an empty list).
 *
 * @param group the name of the config this run belongs to (a race's config name, else the config's name)
 * @param seed the seed from a race's {@code <config>-s<seed>} folder name, else null
 */
public record Run(Path dir, String group, Long seed, JsonNode config, JsonNode summary, List<Point> points) {

    /** The final validation loss: {@code summary.last_val_loss}, else the last val_loss logged, else NaN. */
    public double finalValLoss() {
        double s = Report.num(summary.path("last_val_loss"));
        if (Double.isFinite(s)) return s;
        for (int i = points.size() - 1; i >= 0; i--) if (Double.isFinite(points.get(i).valLoss())) return points.get(i).valLoss();
        return Double.NaN;
    }

    public double bestValLoss() {
        double s = Report.num(summary.path("best_val_loss"));
        if (Double.isFinite(s)) return s;
        double best = Double.NaN;
        for (Point p : points) if (Double.isFinite(p.valLoss()) && !(p.valLoss() >= best)) best = p.valLoss();
        return best;
    }

    /** A summary number, or the last logged value of the same metric, or NaN. */
    public double summaryNum(String field) {
        return Report.num(summary.path(field));
    }
}
