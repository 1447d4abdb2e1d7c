package dev.mixlab.cli;

import dev.mixlab.experiment.Budget;

/** Parses durations like {@code 90}, {@code 90s}, {@code 5m}, {@code 1.5h} given on the command line. */
final class DurationArg {
    private DurationArg() {}

    static double seconds(String s, String flag) {
        double v = Budget.parseDuration(s);
        if (Double.isNaN(v)) throw new UserException(flag + ": cannot read '" + s + "' as a duration; write e.g. 90s, 5m or 1h");
        return v;
    }
}
