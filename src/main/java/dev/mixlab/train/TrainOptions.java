package dev.mixlab.train;

import java.nio.file.Path;

/**
 * Command-line overrides of a run. Null fields keep the config's value.
 *
 * @param train     data glob or file (relative to the working directory); null: the config's {@code data.train}
 * @param val       validation data; null: the config's {@code data.val}, else the last 10% of train
 * @param steps     total optimizer steps
 * @param timeBudgetSeconds stop after this much training time (the schedule stays that of {@code steps})
 * @param out       run directory; null: {@code runs/<name>-<timestamp>}
 * @param seed      run seed
 */
public record TrainOptions(String train, String val, Integer steps, Double timeBudgetSeconds, Path out, Long seed) {
    public static TrainOptions defaults() {
        return new TrainOptions(null, null, null, null, null, null);
    }
}
