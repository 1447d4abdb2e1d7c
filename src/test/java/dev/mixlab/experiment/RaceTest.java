package dev.mixlab.experiment;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigException;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.stats.Stats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A race of two tiny configs × two seeds on a slice of Shakespeare: layout, statistics, resume, verdicts. */
class RaceTest {
    @TempDir
    Path tmp;

    static final String A = """
            {"name": "a", "model_dim": 16, "seq_len": 16, "blocks": [{"type": "plain", "heads": 2}],
             "training": {"steps": 4, "lr": 3e-3, "batch_tokens": 64, "log_every_steps": 2, "val_tokens": 128}}
            """;
    static final String B = A.replace("\"a\"", "\"b\"").replace("\"model_dim\": 16", "\"model_dim\": 24");

    Path text() throws IOException {
        Path p = tmp.resolve("shake.txt");
        if (!Files.exists(p)) {
            byte[] all = Files.readAllBytes(Path.of("data/tinyshakespeare.txt"));
            Files.write(p, java.util.Arrays.copyOf(all, 30_000));
        }
        return p;
    }

    Race.Entry entry(String json, String file) throws IOException {
        Config c = ConfigLoader.parse(json, file);
        return new Race.Entry(c.name(), tmp.resolve(file), c, text().toString(), null);
    }

    Race.Spec spec(List<Race.Entry> es, Budget b, ExperimentPlan plan) {
        return new Race.Spec(es, List.of(0L, 1L), b, "a", "cpu", tmp.resolve("race"), plan);
    }

    static ObjectNodeAndLog run(Race.Spec s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        var r = Race.run(s, CpuBackend::new, new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        return new ObjectNodeAndLog(r, bytes.toString(StandardCharsets.UTF_8));
    }

    record ObjectNodeAndLog(JsonNode results, String log) {}

    @Test
    void raceWritesTheLayoutStatisticsVerdictsAndResumes() throws IOException {
        Path planFile = tmp.resolve("experiment.json");
        Files.writeString(tmp.resolve("a.json"), A);
        Files.writeString(tmp.resolve("b.json"), B);
        Files.writeString(planFile, """
                {"question": "Is the wider model better after 5 steps?",
                 "hypotheses": [
                   {"id": "H1", "statement": "b beats a by at least 0.01", "falsified_if": {"config": "b", "vs": "a", "delta_greater_than": -0.01}},
                   {"id": "H2", "statement": "b is no better than a", "falsified_if": {"config": "b", "metric": "val_loss", "delta_less_than": 0}}],
                 "configs": ["a.json", "b.json"], "seeds": 2, "budget": {"steps": 5}, "baseline": "a"}
                """);
        ExperimentPlan plan = ExperimentPlan.load(planFile);
        Race.Spec s = spec(List.of(entry(A, "a.json"), entry(B, "b.json")), plan.budget(), plan);
        ObjectNodeAndLog first = run(s);
        Path out = tmp.resolve("race");
        for (String r : List.of("a-s0", "a-s1", "b-s0", "b-s1")) {
            for (String f : List.of("config.json", "metrics.jsonl", "summary.json", "model.safetensors")) {
                assertTrue(Files.exists(out.resolve("runs").resolve(r).resolve(f)), r + "/" + f);
            }
        }
        ObjectMapper om = new ObjectMapper();
        JsonNode race = om.readTree(out.resolve("race.json").toFile());
        assertEquals(5, race.get("budget").get("steps").asInt());
        assertEquals("a", race.get("baseline").asText());
        assertEquals(2, race.get("configs").size());
        assertTrue(race.get("configs").get(0).get("config").has("model_dim"));
        assertFalse(race.get("finished").isNull());
        assertEquals("Is the wider model better after 5 steps?", race.get("plan").get("question").asText());

        JsonNode res = om.readTree(out.resolve("results.json").toFile());
        assertEquals(res.toString(), first.results().toString());
        JsonNode rows = res.get("rows");
        assertEquals(2, rows.size());
        // ranked by mean val loss; the numbers are the runs' own summaries
        assertTrue(rows.get(0).get("val_loss").get("mean").asDouble() <= rows.get(1).get("val_loss").get("mean").asDouble());
        JsonNode rowA = rows.get(0).get("name").asText().equals("a") ? rows.get(0) : rows.get(1);
        JsonNode rowB = rowA == rows.get(0) ? rows.get(1) : rows.get(0);
        double[] a = vals(out, "a"), b = vals(out, "b");
        assertEquals(Stats.mean(a), rowA.get("val_loss").get("mean").asDouble(), 1e-12);
        assertEquals(Stats.sd(b), rowB.get("val_loss").get("sd").asDouble(), 1e-12);
        assertEquals(2, rowB.get("val_loss").get("n").asInt());
        Stats.WelchResult w = Stats.welch(b, a, 0.95);
        assertEquals(w.diff(), rowB.get("delta_vs_baseline").get("delta").asDouble(), 1e-12);
        assertEquals(w.lo(), rowB.get("delta_vs_baseline").get("ci_lo").asDouble(), 1e-12);
        assertEquals(Stats.cohensD(b, a), rowB.get("cohens_d").asDouble(), 1e-12);
        assertTrue(rowA.get("delta_vs_baseline").isNull());
        assertTrue(rowB.get("params").asLong() > rowA.get("params").asLong());
        assertTrue(rowB.get("tok_per_s_mean").asDouble() > 0);
        assertEquals(1, res.get("anova").get("df_between").asInt());
        assertEquals(2, res.get("anova").get("df_within").asInt());
        assertEquals(Stats.anova(List.of(a, b)).f(), res.get("anova").get("f").asDouble(), 1e-9);

        JsonNode h1 = res.get("hypotheses").get(0), h2 = res.get("hypotheses").get(1);
        double delta = Stats.mean(b) - Stats.mean(a);
        assertEquals(delta, h1.get("delta").asDouble(), 1e-12);
        assertEquals(delta > -0.01 ? "falsified" : "not falsified", h1.get("verdict").asText());
        assertEquals(delta < 0 ? "falsified" : "not falsified", h2.get("verdict").asText());
        assertEquals("a", h2.get("vs").asText(), "vs defaults to the baseline");
        assertTrue(first.log().contains("question: Is the wider model"), first.log());
        assertTrue(first.log().contains("H1") && first.log().contains("Δ val_loss(b − a) > -0.01"), first.log());

        // resume: all four runs are done and skipped; a run without an ok summary is redone
        long before = Files.getLastModifiedTime(out.resolve("runs/a-s0/model.safetensors")).toMillis();
        Files.delete(out.resolve("runs/b-s1/summary.json"));
        ObjectNodeAndLog second = run(s);
        assertEquals(3, second.log().lines().filter(l -> l.contains("skipped")).count(), second.log());
        assertTrue(second.log().contains("b-s1: training"), second.log());
        assertEquals(before, Files.getLastModifiedTime(out.resolve("runs/a-s0/model.safetensors")).toMillis());
        // same seed, same data: the redone run gives the same loss
        assertEquals(rowB.get("val_loss").get("values").get(1).asDouble(),
                second.results().get("rows").get(rowB == rows.get(0) ? 0 : 1).get("val_loss").get("values").get(1).asDouble(), 0);

        // the same directory with another budget is refused rather than mixed
        RaceException ex = assertThrows(RaceException.class, () -> run(spec(s.entries(), Budget.steps(7), null)));
        assertTrue(ex.getMessage().contains("different budget"), ex.getMessage());
    }

    double[] vals(Path out, String name) throws IOException {
        ObjectMapper om = new ObjectMapper();
        return new double[] {
            om.readTree(out.resolve("runs/" + name + "-s0/summary.json").toFile()).get("last_val_loss").asDouble(),
            om.readTree(out.resolve("runs/" + name + "-s1/summary.json").toFile()).get("last_val_loss").asDouble()};
    }

    @Test
    void incomparableConfigsAreRefusedWithTheReason() throws IOException {
        Race.Entry a = entry(A, "a.json");
        Race.Entry vocab = entry(B.replace("\"seq_len\"", "\"vocab_size\": 512, \"seq_len\""), "b.json");
        RaceException e = assertThrows(RaceException.class, () -> Race.check(spec(List.of(a, vocab), Budget.steps(2), null)));
        assertTrue(e.getMessage().contains("different vocab_size (a 256, b 512)"), e.getMessage());

        Race.Entry seq = entry(B.replace("\"seq_len\": 16", "\"seq_len\": 8"), "b.json");
        e = assertThrows(RaceException.class, () -> Race.check(spec(List.of(a, seq), Budget.steps(2), null)));
        assertTrue(e.getMessage().contains("different seq_len"), e.getMessage());

        Race.Entry b = entry(B, "b.json");
        Race.Entry otherData = new Race.Entry("b", b.file(), b.config(), "other.txt", null);
        e = assertThrows(RaceException.class, () -> Race.check(spec(List.of(a, otherData), Budget.steps(2), null)));
        assertTrue(e.getMessage().contains("different training data") && e.getMessage().contains("--train"), e.getMessage());

        Race.Entry twin = entry(A, "a2.json");
        e = assertThrows(RaceException.class, () -> Race.check(spec(List.of(a, twin), Budget.steps(2), null)));
        assertTrue(e.getMessage().contains("two configs are named \"a\""), e.getMessage());

        Race.Entry moreSteps = entry(B.replace("\"steps\": 4", "\"steps\": 9"), "b.json");
        e = assertThrows(RaceException.class, () -> Race.check(spec(List.of(a, moreSteps), null, null)));
        assertTrue(e.getMessage().contains("training.steps"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("race")), "nothing ran");
    }

    @Test
    void flopsBudgetSetsStepsFromFlopsPerToken() throws IOException {
        Config c = entry(A, "a.json").config();
        var r = dev.mixlab.train.ModelReport.of(c);
        double perStep = (double) r.trainFlopsPerToken() * r.batch() * r.seqLen();
        assertEquals(10, Race.stepsFor(c, Budget.flops(10.5 * perStep)));
        assertEquals(1, Race.stepsFor(c, Budget.flops(1)));
        assertEquals(4, Race.stepsFor(c, Budget.time(60)), "a time budget keeps the config's schedule");
    }

    @Test
    void planIsValidatedStrictlyWithOneLineErrors() throws IOException {
        Files.writeString(tmp.resolve("a.json"), A);
        String ok = """
                {"question": "q", "configs": ["a.json"], "seeds": [0, 1], "budget": {"time_budget": "2m"},
                 "hypotheses": [{"id": "H1", "statement": "s", "falsified_if": {"config": "a", "vs": "a", "delta_greater_than": 0}}]}""";
        ExperimentPlan p = plan(ok);
        assertEquals(120, p.budget().value(), 0);
        assertEquals(List.of(0L, 1L), p.seeds());
        assertError(ok.replace("\"question\"", "\"questoin\""), "/questoin", "did you mean \"question\"");
        assertError(ok.replace("\"a.json\"]", "\"zz.json\"]"), "/configs/0", "not found");
        assertError(ok.replace("{\"time_budget\": \"2m\"}", "{\"steps\": 3, \"flops_budget\": 1e9}"), "/budget", "exactly one");
        assertError(ok.replace("\"2m\"", "\"soon\""), "/budget/time_budget", "duration");
        assertError(ok.replace("\"delta_greater_than\": 0", "\"delta_greater_than\": \"big\""), "/hypotheses/0/falsified_if/delta_greater_than", "number");
        assertError(ok.replace(", \"delta_greater_than\": 0", ""), "/hypotheses/0/falsified_if", "exactly one");
        assertError(ok.replace("\"delta_greater_than\": 0", "\"metric\": \"perplexity\", \"delta_greater_than\": 0"), "/hypotheses/0/falsified_if/metric", "valid: val_loss");
        assertError(ok.replace("[0, 1]", "[0, 0]"), "/seeds/1", "twice");
        ConfigException e = assertThrows(ConfigException.class, () -> p.checkNames(List.of("a")));
        assertTrue(e.getMessage().contains("/hypotheses/0/falsified_if/vs"), e.getMessage());
        ExperimentPlan q = plan(ok.replace("\"config\": \"a\"", "\"config\": \"c\""));
        e = assertThrows(ConfigException.class, () -> q.checkNames(List.of("a")));
        assertTrue(e.getMessage().contains("/hypotheses/0/falsified_if/config") && e.getMessage().contains("use one of: a"), e.getMessage());
    }

    ExperimentPlan plan(String json) throws IOException {
        Path f = tmp.resolve("experiment.json");
        Files.writeString(f, json);
        return ExperimentPlan.load(f);
    }

    void assertError(String json, String pointer, String fragment) throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(json));
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.startsWith(tmp.resolve("experiment.json") + ": " + pointer + ":"), m);
        assertTrue(m.contains(fragment), m);
    }
}
