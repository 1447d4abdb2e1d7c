package dev.mixlab.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Run and race directories written by hand, in the layout the trainer and the race command write. */
final class Fixtures {
    private Fixtures() {}

    static String config(String name, double lr) {
        return """
                {"name": "%s", "model_dim": 16, "seq_len": 8, "blocks": [{"type": "plain", "heads": 2}],
                 "training": {"steps": 40, "lr": %s, "batch_tokens": 16}}
                """.formatted(name, Double.toString(lr));
    }

    /**
     * A run that logs every 4 steps to 40 with validation every 8; its loss falls from 5.5 towards
     * {@code floor}, shifted by {@code jitter} so seeds differ.
     */
    static Path run(Path dir, String name, double lr, double floor, double jitter, boolean withSummary) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config(name, lr));
        StringBuilder m = new StringBuilder();
        double last = Double.NaN, lastVal = Double.NaN;
        for (int step : new int[] {1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40}) {
            double loss = floor + (5.5 - floor) * Math.exp(-step / 10.0) + jitter;
            last = loss;
            m.append(String.format(Locale.ROOT, "{\"step\":%d,\"loss\":%.5f,\"lr\":0.001,\"grad_norm\":1.0,\"tokens\":%d,"
                    + "\"tok_per_s\":1000.0,\"train_s\":%.3f,\"elapsed_s\":%.3f", step, loss, step * 256, step * 0.05, 0.5 + step * 0.06));
            if (step % 8 == 0) {
                lastVal = loss + 0.05;
                m.append(String.format(Locale.ROOT, ",\"val_loss\":%.5f", lastVal));
            }
            m.append("}\n");
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m);
        if (withSummary) {
            Files.writeString(dir.resolve("summary.json"), String.format(Locale.ROOT, """
                    {"name": "%s", "config_hash": "abc123def456", "status": "ok", "steps": 40, "parameters": 4000,
                     "tokens": 10240, "first_loss": 5.5, "last_loss": %.5f, "best_val_loss": %.5f, "best_val_step": 40,
                     "last_val_loss": %.5f, "wall_s": 3.0, "train_s": 2.0, "tok_per_s": 5120.0, "backend": "cpu"}
                    """, name, last, lastVal, lastVal));
        }
        return dir;
    }

    /** A race of configs "base" (lr 3e-3) and "slow" (lr 1e-3), seeds 1 and 2; results.json optional. */
    static Path race(Path dir, boolean withResults) throws IOException {
        run(dir.resolve("runs/base-s1"), "base", 3e-3, 2.0, 0.00, true);
        run(dir.resolve("runs/base-s2"), "base", 3e-3, 2.0, 0.04, true);
        run(dir.resolve("runs/slow-s1"), "slow", 1e-3, 2.6, 0.00, true);
        run(dir.resolve("runs/slow-s2"), "slow", 1e-3, 2.6, 0.06, false);
        Files.writeString(dir.resolve("race.json"), """
                {"configs": [{"name": "base", "hash": "h1", "config": %s}, {"name": "slow", "hash": "h2", "config": %s}],
                 "seeds": [1, 2], "budget": {"steps": 40}, "baseline": "base",
                 "plan": {"question": "Is a learning rate of 1e-3 worse than 3e-3 at 40 steps?",
                          "hypotheses": [{"id": "H1", "statement": "slow ends above base", "falsified_if": "CI of the delta includes 0"},
                                         {"id": "H2", "statement": "throughput is unchanged", "falsified_if": "tok/s differs by more than a tenth"}]}}
                """.formatted(config("base", 3e-3), config("slow", 1e-3)));
        if (withResults) {
            Files.writeString(dir.resolve("results.json"), """
                    {"rows": [
                      {"name": "base", "params": 4000, "flops_per_token": 30000, "val_loss_mean": 2.09, "val_loss_sd": 0.028,
                       "val_loss_best": 2.07, "n": 2, "delta_vs_baseline": 0.0, "tok_per_s": 5120, "wall_s": 3.0},
                      {"name": "slow", "params": 4000, "flops_per_token": 30000, "val_loss_mean": 2.68, "val_loss_sd": 0.042,
                       "val_loss_best": 2.66, "n": 2, "delta_vs_baseline": 0.59, "delta_ci_low": 0.41, "delta_ci_high": 0.77,
                       "cohens_d": 16.5, "tok_per_s": 5100, "wall_s": 3.1}],
                     "anova": {"F": 290.4, "p": 0.0034},
                     "verdicts": [{"id": "H1", "verdict": "supported", "delta": 0.59, "ci_low": 0.41, "ci_high": 0.77}]}
                    """);
        }
        return dir;
    }
}
