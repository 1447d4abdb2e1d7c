package dev.mixlab.report;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;

/** Draws into a {@link BufferedImage} (headless Java2D), at {@code scale} pixels per chart unit. */
final class Java2dCanvas implements Canvas {
    private final BufferedImage image;
    private final Graphics2D g;

    Java2dCanvas(int width, int height, double scale) {
        image = new BufferedImage((int) Math.round(width * scale), (int) Math.round(height * scale), BufferedImage.TYPE_INT_RGB);
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.scale(scale, scale);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    private static Path2D.Double path(double[] xs, double[] ys, boolean close) {
        Path2D.Double p = new Path2D.Double();
        for (int i = 0; i < xs.length; i++) {
            if (i == 0) p.moveTo(xs[i], ys[i]);
            else p.lineTo(xs[i], ys[i]);
        }
        if (close) p.closePath();
        return p;
    }

    public void rect(double x, double y, double w, double h, int fill) {
        g.setColor(new Color(fill));
        g.fill(new java.awt.geom.Rectangle2D.Double(x, y, w, h));
    }

    public void line(double[] xs, double[] ys, int colour, double width, double[] dash, String cssClass) {
        if (xs.length == 0) return;
        float[] d = null;
        if (dash != null) {
            d = new float[dash.length];
            for (int i = 0; i < d.length; i++) d[i] = (float) dash[i];
        }
        g.setStroke(new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, d, 0f));
        g.setColor(new Color(colour));
        g.draw(path(xs, ys, false));
    }

    public void polygon(double[] xs, double[] ys, int colour, double opacity) {
        if (xs.length == 0) return;
        var old = g.getComposite();
        g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, (float) opacity));
        g.setColor(new Color(colour));
        g.fill(path(xs, ys, true));
        g.setComposite(old);
    }

    public void text(double x, double y, String s, double size, Anchor anchor, int colour, boolean bold, boolean rotate) {
        g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size));
        g.setColor(new Color(colour));
        double w = g.getFontMetrics().getStringBounds(s, g).getWidth();
        double dx = switch (anchor) {
            case START -> 0;
            case MIDDLE -> -w / 2;
            case END -> -w;
        };
        AffineTransform old = g.getTransform();
        g.translate(x, y);
        if (rotate) g.rotate(-Math.PI / 2);
        g.drawString(s, (float) dx, 0f);
        g.setTransform(old);
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }
}
