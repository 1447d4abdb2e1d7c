package dev.mixlab.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Writes the page and, beside it, one PNG per loss panel ({@code <stem>-loss-step.png},
 * {@code -loss-tokens}, {@code -loss-time}, {@code -loss-flops}) drawn with headless Java2D.
 */
public final class ReportWriter {
    private ReportWriter() {}

    /** What was written, and anything the reader should know (unreadable files, PNGs that failed). */
    public record Written(Path html, List<Path> pngs, List<String> warnings) {}

    /** Pixels per chart unit in the PNGs: 2 gives 1120×660 images, sharp in papers and on HiDPI screens. */
    static final double PNG_SCALE = 2;

    public static Written write(Report report, Path out) {
        List<Axis> axes = new ArrayList<>();
        for (Axis a : Axis.values()) if (a != Axis.FLOPS || LossChart.hasData(report.groups(), a)) axes.add(a);
        String file = out.getFileName().toString();
        String stem = file.endsWith(".html") ? file.substring(0, file.length() - 5) : file.endsWith(".htm") ? file.substring(0, file.length() - 4) : file;
        Path dir = out.toAbsolutePath().getParent();
        List<String> warnings = new ArrayList<>(report.warnings());
        Map<Axis, String> names = new LinkedHashMap<>();
        List<Path> pngs = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            System.setProperty("java.awt.headless", "true");
            for (Axis a : axes) {
                String name = stem + "-loss-" + a.slug + ".png";
                Java2dCanvas c = new Java2dCanvas(Html.PANEL_W, Html.PANEL_H, PNG_SCALE);
                LossChart.draw(c, report.groups(), a, Html.PANEL_W, Html.PANEL_H);
                Path p = dir.resolve(name);
                atomic(p, tmp -> ImageIO.write(c.finish(), "png", tmp.toFile()));
                names.put(a, name);
                pngs.add(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report's PNG files in " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
            // a JDK without fonts or AWT libraries: the page is still worth having
            warnings.add("PNG plots not written: Java2D failed (" + e + ")");
        }
        Report withWarnings = warnings.size() == report.warnings().size() ? report : report.withWarnings(warnings);
        String html = Html.page(withWarnings, axes, names);
        try {
            atomic(out, tmp -> Files.writeString(tmp, html, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
        return new Written(out, pngs, warnings);
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    private static void atomic(Path target, Writer w) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        w.write(tmp);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
