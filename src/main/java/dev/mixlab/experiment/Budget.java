package dev.mixlab.experiment;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * The budget every run of a race gets: a number of optimizer steps, a training time, or a number
 * of training FLOPs (turned into steps per config from its FLOPs per token).
 */
public record Budget(Kind kind, double value) {
    public enum Kind { STEPS, TIME, FLOPS }

    public static Budget steps(int n) {
        return new Budget(Kind.STEPS, n);
    }

    public static Budget time(double seconds) {
        return new Budget(Kind.TIME, seconds);
    }

    public static Budget flops(double flops) {
        return new Budget(Kind.FLOPS, flops);
    }

    /** @return e.g. {@code 200 steps}, {@code 300 s of training}, {@code 1.00e+15 FLOPs} */
    public String describe() {
        return switch (kind) {
            case STEPS -> (long) value + " steps";
            case TIME -> String.format(Locale.ROOT, "%s s of training", trim(value));
            case FLOPS -> String.format(Locale.ROOT, "%.3g training FLOPs", value);
        };
    }

    /** @return {@code {"steps": N}}, {@code {"time_budget_s": T}} or {@code {"flops_budget": F}} */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        switch (kind) {
            case STEPS -> o.put("steps", (long) value);
            case TIME -> o.put("time_budget_s", value);
            case FLOPS -> o.put("flops_budget", value);
        }
        return o;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * Reads {@code 90}, {@code 90s}, {@code 500ms}, {@code 5m}, {@code 1.5h} as seconds.
     *
     * @return the seconds, or NaN when the text is not a positive duration
     */
    public static double parseDuration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        double mult = 1;
        if (t.endsWith("ms")) {
            mult = 0.001;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("m")) {
            mult = 60;
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("h")) {
            mult = 3600;
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t) * mult;
            return v > 0 && Double.isFinite(v) ? v : Double.NaN;
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
