package dev.mixlab.cli;

/** Parses durations like {@code 90}, {@code 90s}, {@code 5m}, {@code 1.5h}. */
final class DurationArg {
    private DurationArg() {}

    static double seconds(String s, String flag) {
        String t = s.trim().toLowerCase();
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
            if (v > 0 && Double.isFinite(v)) return v;
        } catch (NumberFormatException ignored) {
            // fall through to the error
        }
        throw new UserException(flag + ": cannot read '" + s + "' as a duration; write e.g. 90s, 5m or 1h");
    }
}
