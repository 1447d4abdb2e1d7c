package dev.mixlab.config;

/** Binds and validates the {@code training} section. */
final class TrainBinder {
    private TrainBinder() {}

    static TrainSpec bind(FieldReader r, int seqLen) {
        int steps = ConfigBinder.positive(r, "steps", r.integer("steps"));
        double lr = r.number("lr");
        r.check(lr > 0, "lr", "must be > 0, got " + lr, "use e.g. 1e-3");
        double minLr = r.number("min_lr");
        r.check(minLr >= 0 && minLr <= lr, "min_lr", "must be in [0, lr " + lr + "], got " + minLr,
                "use e.g. lr / 10 = " + lr / 10);
        Schedule schedule = r.enumValue("schedule", Schedule.values());
        int warmup = r.integer("warmup_steps");
        r.check(warmup >= 0 && warmup < steps, "warmup_steps", "must be in [0, steps " + steps + "), got " + warmup,
                "use fewer warmup steps than steps, e.g. " + steps / 10);
        int batchTokens = r.integer("batch_tokens");
        checkBatchTokens(r, batchTokens, seqLen);
        Optimizer optimizer = r.enumValue("optimizer", Optimizer.values());
        double beta1 = unitInterval(r, "beta1", r.number("beta1"));
        double beta2 = unitInterval(r, "beta2", r.number("beta2"));
        double eps = r.number("eps");
        r.check(eps > 0, "eps", "must be > 0, got " + eps, "use e.g. 1e-8");
        double weightDecay = nonNegative(r, "weight_decay", r.number("weight_decay"));
        double gradClip = nonNegative(r, "grad_clip", r.number("grad_clip"));
        long seed = r.longValue("seed");
        int valEvery = r.integer("val_every_steps");
        r.check(valEvery >= 0, "val_every_steps", "must be >= 0, got " + valEvery, "use 0 to validate only at the end");
        int valTokens = r.integer("val_tokens");
        r.check(valTokens >= seqLen, "val_tokens", valTokens + " is less than seq_len " + seqLen,
                "use at least " + seqLen + " (one sequence)");
        int logEvery = ConfigBinder.positive(r, "log_every_steps", r.integer("log_every_steps"));
        int budget = r.integer("time_budget_seconds");
        r.check(budget >= 0, "time_budget_seconds", "must be >= 0, got " + budget, "use 0 for no limit");
        return new TrainSpec(steps, lr, minLr, schedule, warmup, batchTokens, optimizer, beta1, beta2, eps,
                weightDecay, gradClip, seed, valEvery, valTokens, logEvery, budget);
    }

    private static void checkBatchTokens(FieldReader r, int batchTokens, int seqLen) {
        if (batchTokens > 0 && batchTokens % seqLen == 0) return;
        long below = (long) batchTokens / seqLen * seqLen;
        long above = below + seqLen;
        String fix = below > 0 ? "use " + below + " or " + above : "use " + seqLen + " or a larger multiple";
        throw r.error("batch_tokens", batchTokens + " is not a positive multiple of seq_len " + seqLen, fix);
    }

    private static double unitInterval(FieldReader r, String key, double v) {
        r.check(v >= 0 && v < 1, key, "must be in [0, 1), got " + v, "use e.g. 0.9");
        return v;
    }

    private static double nonNegative(FieldReader r, String key, double v) {
        r.check(v >= 0, key, "must be >= 0, got " + v, "use 0 to turn it off");
        return v;
    }
}
