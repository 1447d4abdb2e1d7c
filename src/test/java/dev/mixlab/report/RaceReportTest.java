package dev.mixlab.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report reads what {@code mixlab race} really writes: the race table shows the race's numbers. */
class RaceReportTest {
    @TempDir
    Path tmp;

    @Test
    void reportOfARealRaceShowsItsStatistics() throws IOException {
        Path text = tmp.resolve("t.txt");
        Files.write(text, Arrays.copyOf(Files.readAllBytes(Path.of("data/tinyshakespeare.txt")), 40_000));
        for (String n : new String[] {"a", "b"}) {
            Files.writeString(tmp.resolve(n + ".json"), """
                    {"name": "%s", "model_dim": 16, "seq_len": 16, "blocks": [{"type": "plain", "heads": 2%s}],
                     "training": {"batch_tokens": 64, "val_tokens": 64, "log_every_steps": 1}}
                    """.formatted(n, n.equals("b") ? ", \"ffn\": \"swiglu\"" : ""));
        }
        Path race = tmp.resolve("race");
        StringWriter o = new StringWriter(), e = new StringWriter();
        int rc = Main.run(new String[] {"race", tmp.resolve("a.json").toString(), tmp.resolve("b.json").toString(), "--train",
                text.toString(), "--steps", "3", "--seeds", "2", "--out", race.toString()}, new PrintWriter(o), new PrintWriter(e));
        assertEquals(0, rc, e.toString());
        Path html = tmp.resolve("r.html");
        rc = Main.run(new String[] {"report", race.toString(), "--out", html.toString()}, new PrintWriter(o), new PrintWriter(e));
        assertEquals(0, rc, e.toString());
        String page = Files.readString(html);
        String table = page.substring(page.indexOf("class=\"race sortable\""));
        table = table.substring(0, table.indexOf("</table>"));
        Matcher m = Pattern.compile("<tr class=\"[^\"]*\">(.*?)</tr>", Pattern.DOTALL).matcher(table);
        int rows = 0;
        while (m.find()) {
            String[] cells = m.group(1).replaceAll("<[^>]+>", " ").trim().split("\\s+");
            rows++;
            // mean, sd, best and n of the final validation losses are numbers, not placeholders
            assertTrue(m.group(1).matches("(?s).*\\d\\.\\d{4}.*\\d\\.\\d{4}.*"), String.join(" ", cells));
            assertFalse(cells[3].equals("—") && cells[4].equals("—"), String.join(" ", cells));
        }
        assertEquals(2, rows);
        assertTrue(table.contains("["), "the non-baseline row shows its confidence interval");
    }
}
