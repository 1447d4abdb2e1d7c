package dev.mixlab.report;

import java.util.Locale;

/** Draws into an inline {@code <svg>} element. */
final class SvgCanvas implements Canvas {
    private final StringBuilder sb = new StringBuilder();
    private final int width, height;

    SvgCanvas(int width, int height, String cssClass, String label) {
        this.width = width;
        this.height = height;
        sb.append(String.format(Locale.ROOT,
                "<svg class=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
                cssClass, width, height, width, height, Html.esc(label)));
    }

    static String hex(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb & 0xffffff);
    }

    static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String path(double[] xs, double[] ys, boolean close) {
        StringBuilder d = new StringBuilder();
        for (int i = 0; i < xs.length; i++) d.append(i == 0 ? "M" : " L").append(f(xs[i])).append(',').append(f(ys[i]));
        if (close) d.append(" Z");
        return d.toString();
    }

    public void rect(double x, double y, double w, double h, int fill) {
        sb.append("<rect x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" width=\"").append(f(w))
                .append("\" height=\"").append(f(h)).append("\" fill=\"").append(hex(fill)).append("\"/>\n");
    }

    public void line(double[] xs, double[] ys, int colour, double width, double[] dash, String cssClass) {
        if (xs.length == 0) return;
        sb.append("<path");
        if (cssClass != null) sb.append(" class=\"").append(cssClass).append('"');
        sb.append(" d=\"").append(path(xs, ys, false)).append("\" fill=\"none\" stroke=\"").append(hex(colour))
                .append("\" stroke-width=\"").append(f(width)).append('"');
        if (dash != null) {
            sb.append(" stroke-dasharray=\"");
            for (int i = 0; i < dash.length; i++) sb.append(i == 0 ? "" : " ").append(f(dash[i]));
            sb.append('"');
        }
        sb.append(" stroke-linejoin=\"round\"/>\n");
    }

    public void polygon(double[] xs, double[] ys, int colour, double opacity) {
        if (xs.length == 0) return;
        sb.append("<path class=\"band\" d=\"").append(path(xs, ys, true)).append("\" fill=\"").append(hex(colour))
                .append("\" fill-opacity=\"").append(String.format(Locale.ROOT, "%.2f", opacity)).append("\" stroke=\"none\"/>\n");
    }

    public void text(double x, double y, String s, double size, Anchor anchor, int colour, boolean bold, boolean rotate) {
        sb.append("<text x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" font-size=\"").append(f(size))
                .append("\" fill=\"").append(hex(colour)).append('"');
        if (anchor != Anchor.START) sb.append(" text-anchor=\"").append(anchor == Anchor.MIDDLE ? "middle" : "end").append('"');
        if (bold) sb.append(" font-weight=\"bold\"");
        if (rotate) sb.append(" transform=\"rotate(-90 ").append(f(x)).append(' ').append(f(y)).append(")\"");
        sb.append('>').append(Html.esc(s)).append("</text>\n");
    }

    String finish() {
        return sb.append("</svg>\n").toString();
    }

    int width() { return width; }
    int height() { return height; }
}
