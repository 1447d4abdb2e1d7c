package dev.mixlab.report;

/** What the loss is drawn against. */
public enum Axis {
    STEP("step", "step"),
    TOKENS("tokens", "tokens"),
    TIME("time", "wall time (s)"),
    FLOPS("flops", "training FLOPs");

    public final String slug;
    public final String label;

    Axis(String slug, String label) {
        this.slug = slug;
        this.label = label;
    }

    /** The x value of a logged point, given the config's FLOPs per token (NaN when unknown). */
    double x(Point p, double flopsPerToken) {
        return switch (this) {
            case STEP -> p.step();
            case TOKENS -> p.tokens();
            case TIME -> p.elapsedS();
            case FLOPS -> p.tokens() * flopsPerToken;
        };
    }
}
