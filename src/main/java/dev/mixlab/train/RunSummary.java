package dev.mixlab.train;

import java.nio.file.Path;

/** What a finished run reports. Losses are in nats per token; NaN where not measured. */
public record RunSummary(Path dir, int steps, double firstLoss, double lastLoss, double bestValLoss, int bestValStep,
                         double lastValLoss, double wallSeconds, double trainSeconds, long tokens, long parameters,
                         String status) {
    public double tokensPerSecond() {
        return tokens / Math.max(1e-9, trainSeconds);
    }
}
