package dev.mixlab.optim;

import dev.mixlab.config.Schedule;
import dev.mixlab.config.TrainSpec;

/**
 * The learning rate at a step (0-based): linear warmup {@code lr·(step+1)/warmup}, then cosine or
 * linear decay from {@code lr} to {@code min_lr} over the remaining steps, or constant, or the
 * parameter-golf {@code warmdown}: constant, then linear towards {@code min_lr} over the last
 * {@code warmdown_steps} steps ({@code lr_mul = (steps - step) / warmdown_steps}), or, with
 * {@code max_wallclock_seconds}, over the time left as the seed's {@code lr_mul(step, elapsed_ms)}.
 * With param groups, {@code at / lr} is the multiplier applied to every group's lr.
 */
public final class LrSchedule {
    private LrSchedule() {}

    /** The learning rate at a step, the warmdown by iterations. */
    public static double at(TrainSpec t, int step) {
        if (step < t.warmupSteps()) return t.lr() * (step + 1) / t.warmupSteps();
        if (t.schedule() == Schedule.WARMDOWN) return t.minLr() + (t.lr() - t.minLr()) * warmdownMul(t.steps(), t.warmdownSteps(), step);
        int span = Math.max(1, t.steps() - t.warmupSteps());
        double r = Math.min(1.0, (double) (step - t.warmupSteps()) / span);
        return switch (t.schedule()) {
            case CONSTANT -> t.lr();
            case LINEAR -> t.lr() + (t.minLr() - t.lr()) * r;
            case COSINE -> t.minLr() + 0.5 * (1 + Math.cos(Math.PI * r)) * (t.lr() - t.minLr());
            case WARMDOWN -> throw new AssertionError();
        };
    }

    /**
     * The learning rate at a step after {@code trainSeconds} of training (validation excluded): as
     * {@link #at(TrainSpec, int)}, except that the {@code warmdown} schedule with
     * {@code max_wallclock_seconds > 0} decays by the clock ({@link #wallclockMul}).
     */
    public static double at(TrainSpec t, int step, double trainSeconds) {
        if (t.schedule() != Schedule.WARMDOWN || t.maxWallclockSeconds() <= 0 || step < t.warmupSteps()) return at(t, step);
        double mul = wallclockMul(t.warmdownSteps(), t.maxWallclockSeconds(), step, trainSeconds);
        return t.minLr() + (t.lr() - t.minLr()) * mul;
    }

    /** The seed's {@code lr_mul} without a wall clock: 1, then {@code (steps - step) / warmdown} over the last warmdown steps. */
    public static double warmdownMul(int steps, int warmdown, int step) {
        if (warmdown <= 0) return 1.0;
        int start = Math.max(steps - warmdown, 0);
        return start <= step && step < steps ? Math.max((double) (steps - step) / Math.max(warmdown, 1), 0.0) : 1.0;
    }

    /**
     * The seed's {@code lr_mul} with a wall clock: the warmdown lasts {@code warmdown} mean step
     * times; once the time left is under that, the multiplier is time left / warmdown time.
     */
    public static double wallclockMul(int warmdown, double maxSeconds, int step, double elapsedSeconds) {
        if (warmdown <= 0) return 1.0;
        double stepS = elapsedSeconds / Math.max(step, 1);
        double warmdownS = warmdown * stepS;
        double remaining = Math.max(maxSeconds - elapsedSeconds, 0.0);
        return remaining <= warmdownS ? remaining / Math.max(warmdownS, 1e-12) : 1.0;
    }
}
