package dev.mixlab.train;

import java.nio.file.Path;

/**
 * Command-line overrides of a run. Null fields keep the config's value.
 *
 * @param train     data glob or file (relative to the working directory); null: the config's {@code data.train}
 * @param val       validation data; null: the config's {@code data.val}, else the last 10% of train
 * @param steps     total optimizer steps
 * @param timeBudgetSeconds stop after this much training time (the schedule stays that of {@code steps})
 * @param out       run directory; null: {@code runs/<name>-<timestamp>} (or the resumed run's directory)
 * @param seed      run seed
 * @param profile   print where the step's time goes, per op, at the end
 * @param checkpoints checkpointing, resume and {@code --stop-at-step}; {@link Checkpoints.Options#NONE}: none
 */
public record TrainOptions(String train, String val, Integer steps, Double timeBudgetSeconds, Path out, Long seed,
                           boolean profile, Checkpoints.Options checkpoints) {
    public TrainOptions {
        if (checkpoints == null) checkpoints = Checkpoints.Options.NONE;
    }

    public TrainOptions(String train, String val, Integer steps, Double timeBudgetSeconds, Path out, Long seed,
                        boolean profile) {
        this(train, val, steps, timeBudgetSeconds, out, seed, profile, Checkpoints.Options.NONE);
    }

    public TrainOptions(String train, String val, Integer steps, Double timeBudgetSeconds, Path out, Long seed) {
        this(train, val, steps, timeBudgetSeconds, out, seed, false);
    }

    public static TrainOptions defaults() {
        return new TrainOptions(null, null, null, null, null, null, false);
    }
}
