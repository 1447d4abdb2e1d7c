package dev.mixlab.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.cli.Main;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mixlab report}: the page's content and the PNGs, from hand-written and freshly trained run dirs. */
class ReportTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Result(code, o.toString(), e.toString());
    }

    static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    /** Pixels within a small distance of an RGB colour. */
    static int pixels(BufferedImage img, int rgb, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = Math.max(0, y0); y < Math.min(img.getHeight(), y1); y++) {
            for (int x = Math.max(0, x0); x < Math.min(img.getWidth(), x1); x++) {
                int p = img.getRGB(x, y);
                int dr = ((p >> 16) & 255) - ((rgb >> 16) & 255), dg = ((p >> 8) & 255) - ((rgb >> 8) & 255), db = (p & 255) - (rgb & 255);
                if (dr * dr + dg * dg + db * db < 3 * 20 * 20) n++;
            }
        }
        return n;
    }

    @Test
    void raceReportHasCurvesResultsPlanConfigsAndPngs() throws IOException {
        Path race = Fixtures.race(tmp.resolve("race"), true);
        Path out = tmp.resolve("out/r.html");
        Result r = run("report", race.toString(), "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("2 configs, 4 runs"), r.out);
        String html = Files.readString(out);

        // self-contained: nothing fetched from anywhere
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no remote src/href");
        assertFalse(html.contains("<link") || html.contains("@import"), "no external stylesheet");

        // four panels, each with a mean line per config for val and train, and min-max bands (2 seeds)
        for (String a : new String[] {"step", "tokens", "time", "flops"}) assertTrue(html.contains("chart-" + a), a);
        assertEquals(4, count(html, "class=\"series val g0\" d=\"M[0-9]"));
        assertEquals(4, count(html, "class=\"series train g1\" d=\"M[0-9]"));
        assertTrue(count(html, "class=\"band\"") >= 16, "bands");
        assertTrue(html.contains(">loss vs training FLOPs<") && html.contains(">wall time (s)<"), "axis labels");

        // results.json table, best row bold, CI above zero is worse
        assertEquals(2, count(html, "<tr class=\"[^\"]*\"><td class=\"name\">"), "race rows");
        assertTrue(html.contains("[+0.4100, +0.7700]"), "CI");
        assertTrue(html.contains("class=\"num worse\""), "worse CI marked");
        assertTrue(html.contains("ANOVA") && html.contains("290.4"));

        // plan beside outcome
        assertTrue(html.contains("Is a learning rate of 1e-3 worse"));
        assertTrue(html.contains("class=\"verdict v-ok\">supported<"), "H1 verdict");
        assertTrue(html.contains("class=\"verdict v-open\">no verdict yet<"), "H2 without verdict");

        // configs side by side: lr and name differ, the rest is collapsed
        assertTrue(html.contains("<tr class=\"differs\"><th>training.lr</th><td>0.003</td><td class=\"chg\">0.001</td></tr>"), "lr highlighted");
        assertFalse(html.contains("<tr class=\"differs\"><th>model_dim</th>"));

        for (String a : new String[] {"step", "tokens", "time", "flops"}) {
            Path png = tmp.resolve("out/r-loss-" + a + ".png");
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, png.toString());
            assertEquals(Html.PANEL_W * 2, img.getWidth());
            assertTrue(pixels(img, LossChart.PALETTE[0], 0, 0, img.getWidth(), img.getHeight()) > 200, "blue line in " + png);
            assertTrue(pixels(img, LossChart.PALETTE[1], 0, 0, img.getWidth(), img.getHeight()) > 200, "orange line in " + png);
        }
    }

    @Test
    void withoutResultsJsonTheTableIsComputedFromTheRuns() throws IOException {
        Path race = Fixtures.race(tmp.resolve("race"), false);
        Result r = run("report", race.toString());
        assertEquals(0, r.code, r.err);
        String html = Files.readString(race.resolve("report.html"));
        assertTrue(html.contains("results.json is absent"));
        assertTrue(html.contains("class=\"race computed sortable\""));
        // base: final val losses 2.0+... read back from summary.json; slow-s2 has no summary: from metrics.jsonl
        Report rep = Report.load(java.util.List.of(race));
        Html.Stats slow = Html.finalVal(rep.groups().get(1));
        assertEquals(2, slow.n());
        assertTrue(slow.sd() > 0.03 && slow.sd() < 0.05, "sd " + slow.sd());
        // FLOPs per token counted from the configs' IR when results.json does not give it
        assertTrue(rep.groups().getFirst().flopsPerToken() > 0);
        assertTrue(html.contains("chart-flops"));
        assertTrue(html.contains("no verdict yet"));
    }

    @Test
    void looseRunsOfOneConfigAreSeedsAndMissingFilesAreTolerated() throws IOException {
        Path a = Fixtures.run(tmp.resolve("runs/x1"), "x", 3e-3, 2.0, 0.0, true);
        Path b = Fixtures.run(tmp.resolve("runs/x2"), "x", 3e-3, 2.0, 0.1, true);
        Path c = tmp.resolve("runs/bare");
        Files.createDirectories(c);
        Files.writeString(c.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":5.0,\"tokens\":10,\"elapsed_s\":0.1}\nnot json\n"
                + "{\"step\":2,\"loss\":4.0,\"tokens\":20,\"elapsed_s\":0.2,\"val_loss\":4.1}\n");
        Path out = tmp.resolve("rep.html");
        Result r = run("report", a.toString(), b.toString(), c.toString(), "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("2 configs, 3 runs"), r.out);
        assertTrue(r.err.contains("not JSON"), r.err);
        String html = Files.readString(out);
        assertTrue(html.contains("x (2 seeds)"), "two runs of one config are one group");
        // a run without config has no FLOPs per token, but x has: the FLOPs panel shows x only
        assertTrue(html.contains("chart-flops"));
        // a folder of runs works too
        Result all = run("report", tmp.resolve("runs").toString(), "--out", tmp.resolve("all.html").toString());
        assertEquals(0, all.code, all.err);
        assertTrue(all.out.contains("3 runs"), all.out);
    }

    @Test
    void noFlopsPanelWithoutFlopsPerToken() throws IOException {
        Path c = tmp.resolve("bare");
        Files.createDirectories(c);
        Files.writeString(c.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":5.0,\"tokens\":10,\"elapsed_s\":0.1}\n"
                + "{\"step\":2,\"loss\":4.0,\"tokens\":20,\"elapsed_s\":0.2,\"val_loss\":4.1}\n");
        Result r = run("report", c.toString());
        assertEquals(0, r.code, r.err);
        String html = Files.readString(c.resolve("report.html"));
        assertFalse(html.contains("chart-flops"));
        assertTrue(html.contains("No FLOPs panel"));
        assertFalse(Files.exists(c.resolve("report-loss-flops.png")));
        assertTrue(Files.exists(c.resolve("report-loss-step.png")));
    }

    @Test
    void badInputIsOneLineWithExitCode2() throws IOException {
        Result r = run("report", tmp.resolve("nope").toString());
        assertEquals(2, r.code);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("nope") && r.err.contains("no such directory"), r.err);
        Files.createDirectories(tmp.resolve("empty"));
        Result e = run("report", tmp.resolve("empty").toString());
        assertEquals(2, e.code);
        assertTrue(e.err.contains("neither a run dir"), e.err);
    }

    @Test
    void reportsRealTrainingRuns() throws IOException {
        Path text = tmp.resolve("shake.txt");
        Files.write(text, java.util.Arrays.copyOf(Files.readAllBytes(Path.of("data/tinyshakespeare.txt")), 50_000));
        Path cfg = tmp.resolve("t.json");
        Files.writeString(cfg, """
                {"name": "t", "model_dim": 32, "seq_len": 16, "blocks": [{"type": "plain", "heads": 2, "repeat": 2}],
                 "training": {"steps": 6, "lr": 3e-3, "batch_tokens": 64, "log_every_steps": 2, "val_every_steps": 3, "val_tokens": 64}}
                """);
        for (int seed : new int[] {1, 2}) {
            Result t = run("train", cfg.toString(), "--train", text.toString(), "--seed", Integer.toString(seed),
                    "--out", tmp.resolve("runs/t-" + seed).toString());
            assertEquals(0, t.code, t.err);
        }
        Result r = run("report", tmp.resolve("runs").toString(), "--out", tmp.resolve("t.html").toString());
        assertEquals(0, r.code, r.err);
        String html = Files.readString(tmp.resolve("t.html"));
        assertTrue(html.contains("t (2 seeds)"), "same config, two seeds");
        assertEquals(4, count(html, "class=\"series val g0\" d=\"M[0-9]"));
        assertTrue(html.contains("chart-flops"), "FLOPs per token from the run's config");
    }
}
