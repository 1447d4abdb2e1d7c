package dev.mixlab.train;

/** Human-readable durations for log lines. */
public final class Durations {
    private Durations() {}

    /** {@code 42s}, {@code 3:07}, {@code 1:02:03}. */
    public static String format(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format("%d:%02d", s / 60, s % 60);
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
