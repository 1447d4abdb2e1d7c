package dev.mixlab.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page as a person sees it: headless Chromium renders the report; the screenshot must show the
 * curves' colours inside the plot and ink inside the results table, and the DOM after the scripts
 * ran must hold the table rows and non-empty SVG paths. Skipped when Chromium is not installed
 * (CI installs it: see .ci/run).
 */
class ReportBrowserTest {
    @TempDir
    Path tmp;

    static Path chromium() {
        for (String p : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) if (Files.isExecutable(Path.of(p))) return Path.of(p);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                Path p = Path.of(d, "chromium");
                if (Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    /** Runs headless Chromium on a page with one extra flag (--screenshot=… or --dump-dom); returns stdout. */
    String chromium(Path exe, Path page, String what) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(tmp, "profile");
        Path stdout = tmp.resolve("chromium-" + System.nanoTime() + ".out");
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--force-device-scale-factor=1", "--hide-scrollbars", "--window-size=1200,2000",
                what, page.toUri().toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 120 s: " + cmd);
        }
        assertEquals(0, p.exitValue(), "chromium exit code: " + cmd);
        return Files.readString(stdout);
    }

    /** Box of an element in CSS pixels, as the page's injected script measured it. */
    record Box(int x, int y, int w, int h) {
        static Box of(JsonNode n) {
            return new Box(n.path("x").asInt(), n.path("y").asInt(), n.path("w").asInt(), n.path("h").asInt());
        }
    }

    static final String PROBE = """
            <script>
            (function () {
              function box(sel) {
                var e = document.querySelector(sel);
                if (!e) return null;
                var r = e.getBoundingClientRect();
                return {x: Math.round(r.left), y: Math.round(r.top), w: Math.round(r.width), h: Math.round(r.height)};
              }
              var rows = document.querySelectorAll('table.race tbody tr').length;
              var paths = Array.prototype.filter.call(document.querySelectorAll('svg.chart path.series'),
                  function (p) { return (p.getAttribute('d') || '').length > 10; }).length;
              document.documentElement.setAttribute('data-probe', JSON.stringify(
                  {chart: box('svg.chart-step'), table: box('table.race'), rows: rows, paths: paths}));
            })();
            </script>
            """;

    @Test
    void chromiumRendersThePlotsAndTheTable() throws Exception {
        Path exe = chromium();
        if (exe == null) System.err.println("ReportBrowserTest skipped: chromium is not installed (apt-get install -y chromium)");
        Assumptions.assumeTrue(exe != null, "chromium is not installed (apt-get install -y chromium): browser test skipped");

        Path race = Fixtures.race(tmp.resolve("race"), true);
        Path page = tmp.resolve("site/report.html");
        ReportWriter.write(Report.load(List.of(race)), page);
        // a copy with a measuring script at the end: the report itself stays as written
        Path probe = tmp.resolve("site/probe.html");
        Files.writeString(probe, Files.readString(page).replace("</body>", PROBE + "</body>"));

        String dom = chromium(exe, probe, "--dump-dom");
        Matcher m = Pattern.compile("data-probe=\"([^\"]*)\"").matcher(dom);
        assertTrue(m.find(), "the page's scripts ran (probe attribute in the DOM)");
        JsonNode probeJson = new ObjectMapper().readTree(m.group(1).replace("&quot;", "\"").replace("&amp;", "&"));
        assertEquals(2, probeJson.path("rows").asInt(), "race table rows in the DOM: " + probeJson);
        assertEquals(16, probeJson.path("paths").asInt(), "SVG series paths with data (4 panels × 2 configs × train, val)");
        Box chart = Box.of(probeJson.path("chart")), table = Box.of(probeJson.path("table"));
        assertTrue(chart.w() > 300 && chart.h() > 150, "chart laid out: " + chart);
        assertTrue(table.w() > 300 && table.h() > 40, "table laid out: " + table);
        assertTrue(table.y() + table.h() < 2000, "table within the screenshot: " + table);

        Path shot = tmp.resolve("shot.png");
        chromium(exe, probe, "--screenshot=" + shot);
        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "screenshot written");
        assertTrue(img.getWidth() >= 1100, "screenshot width " + img.getWidth());
        int blue = ReportTest.pixels(img, LossChart.PALETTE[0], chart.x(), chart.y(), chart.x() + chart.w(), chart.y() + chart.h());
        int orange = ReportTest.pixels(img, LossChart.PALETTE[1], chart.x(), chart.y(), chart.x() + chart.w(), chart.y() + chart.h());
        assertTrue(blue > 150, "blue curve pixels in the step panel: " + blue);
        assertTrue(orange > 150, "orange curve pixels in the step panel: " + orange);
        // nothing of the curve colours outside the panels' column above the first plot: the page is not all blue
        assertTrue(ReportTest.pixels(img, LossChart.PALETTE[0], 0, 0, img.getWidth(), Math.max(0, chart.y() - 40)) < 20, "no stray blue above the plots");

        int dark = 0, total = table.w() * table.h();
        for (int y = table.y(); y < table.y() + table.h(); y++) {
            for (int x = table.x(); x < table.x() + table.w(); x++) {
                int p = img.getRGB(x, y);
                int lum = ((p >> 16) & 255) * 3 + ((p >> 8) & 255) * 6 + (p & 255);
                if (lum < 10 * 100) dark++;
            }
        }
        assertTrue(dark > 500 && dark < total / 2, "table text rendered: " + dark + " dark pixels of " + total);
        // the "worse" Δ cells are shaded red
        assertTrue(ReportTest.pixels(img, 0xf8dddd, table.x(), table.y(), table.x() + table.w(), table.y() + table.h()) > 300, "red Δ cells");
        Files.copy(shot, Path.of("target/report-browser-test.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
