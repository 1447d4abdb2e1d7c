package dev.mixlab.report;

/**
 * The few drawing operations a chart needs, so one chart routine draws both the inline SVG of the
 * page and the PNG files. Coordinates are pixels, y downwards; colours are 0xRRGGBB.
 */
interface Canvas {
    enum Anchor { START, MIDDLE, END }

    void rect(double x, double y, double w, double h, int fill);

    /** A polyline; {@code dash} is null for a solid line. */
    void line(double[] xs, double[] ys, int colour, double width, double[] dash, String cssClass);

    /** A filled polygon with the given opacity (0..1). */
    void polygon(double[] xs, double[] ys, int colour, double opacity);

    /** Text with its baseline at y; {@code rotate} turns it 90° anticlockwise about (x, y). */
    void text(double x, double y, String s, double size, Anchor anchor, int colour, boolean bold, boolean rotate);

    default void segment(double x1, double y1, double x2, double y2, int colour, double width) {
        line(new double[] {x1, x2}, new double[] {y1, y2}, colour, width, null, null);
    }
}
