package dev.mixlab.optim;

import dev.mixlab.config.TrainSpec;

/**
 * The learning rate at a step (0-based): linear warmup {@code lr·(step+1)/warmup}, then cosine or
 * linear decay from {@code lr} to {@code min_lr} over the remaining steps, or constant.
 */
public final class LrSchedule {
    private LrSchedule() {}

    public static double at(TrainSpec t, int step) {
        if (step < t.warmupSteps()) return t.lr() * (step + 1) / t.warmupSteps();
        int span = Math.max(1, t.steps() - t.warmupSteps());
        double r = Math.min(1.0, (double) (step - t.warmupSteps()) / span);
        return switch (t.schedule()) {
            case CONSTANT -> t.lr();
            case LINEAR -> t.lr() + (t.minLr() - t.lr()) * r;
            case COSINE -> t.minLr() + 0.5 * (1 + Math.cos(Math.PI * r)) * (t.lr() - t.minLr());
        };
    }
}
