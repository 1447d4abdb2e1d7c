package dev.mixlab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mixlab.experiment.TextTable;
import dev.mixlab.train.RunLedger;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mixlab runs}: the run ledger as a table. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = "List the runs recorded in runs/ledger.jsonl.")
final class RunsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--name", description = "only runs of this config name")
    String name;

    @Option(names = "--status", description = "only runs with this status: ok, diverged, crashed, interrupted")
    String status;

    @Option(names = "--last", paramLabel = "K", description = "only the last K runs (after the other filters)")
    Integer last;

    @Option(names = "--ledger", paramLabel = "FILE", description = "ledger file (default runs/ledger.jsonl)")
    Path ledger;

    public Integer call() {
        if (status != null && !List.of("ok", "diverged", "crashed", "interrupted").contains(status)) {
            throw new UserException("--status " + status + ": unknown status; use ok, diverged, crashed or interrupted");
        }
        if (last != null && last < 1) throw new UserException("--last must be at least 1, got " + last);
        Path file = ledger != null ? ledger : RunLedger.path();
        List<JsonNode> all = RunLedger.read(file).stream()
                .filter(n -> name == null || name.equals(n.path("name").asText()))
                .filter(n -> status == null || status.equals(n.path("status").asText()))
                .toList();
        if (last != null && all.size() > last) all = all.subList(all.size() - last, all.size());
        var out = spec.commandLine().getOut();
        if (all.isEmpty()) {
            out.println("no runs in " + file + (name != null || status != null ? " match" : " yet"));
            return 0;
        }
        TextTable t = new TextTable("run", "status", "name", "config", "seed", "steps", "params", "FLOPs", "val", "best",
                "tokens", "time", "commit", "device");
        for (JsonNode n : all) {
            String commit = n.path("git_commit").asText("unknown");
            t.add(n.path("run_id").asText(), n.path("status").asText(), n.path("name").asText(),
                    n.path("config_hash").asText(), n.path("seed").asText(), n.path("steps").asText(),
                    count(n.path("params")), sci(n.path("flops")), loss(n.path("final_val_loss")),
                    loss(n.path("best_val_loss")), count(n.path("tokens")), seconds(n.path("wall_s")),
                    commit.length() > 8 ? commit.substring(0, 8) : commit, n.path("device").asText());
        }
        out.print(t.render());
        out.flush();
        return 0;
    }

    static String count(JsonNode n) {
        return n.isNumber() && n.asLong() >= 0 ? String.format(Locale.ROOT, "%,d", n.asLong()) : "—";
    }

    static String sci(JsonNode n) {
        return n.isNumber() && n.asDouble() >= 0 ? String.format(Locale.ROOT, "%.2e", n.asDouble()) : "—";
    }

    static String loss(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%.4f", n.asDouble()) : "—";
    }

    static String seconds(JsonNode n) {
        return n.isNumber() ? dev.mixlab.train.Durations.format(n.asDouble()) : "—";
    }
}
