package dev.mixlab.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

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
        int warmdown = r.integer("warmdown_steps");
        r.check(warmdown >= 0, "warmdown_steps", "must be >= 0, got " + warmdown, "use 0 for no warmdown");
        double wallclock = nonNegative(r, "max_wallclock_seconds", r.number("max_wallclock_seconds"));
        int accum = gradAccum(r, batchTokens, seqLen);
        DataSampler sampler = r.enumValue("sampler", DataSampler.values());
        double muonMomentum = unitInterval(r, "muon_momentum", r.number("muon_momentum"));
        double muonStart = unitInterval(r, "muon_momentum_warmup_start", r.number("muon_momentum_warmup_start"));
        int muonWarmup = r.integer("muon_momentum_warmup_steps");
        r.check(muonWarmup >= 0, "muon_momentum_warmup_steps", "must be >= 0, got " + muonWarmup, "use 0 for no warmup");
        int nsSteps = ConfigBinder.positive(r, "muon_ns_steps", r.integer("muon_ns_steps"));
        List<ParamGroup> groups = groups(r, optimizer, lr, beta1, beta2, eps, weightDecay);
        return new TrainSpec(steps, lr, minLr, schedule, warmup, batchTokens, optimizer, beta1, beta2, eps,
                weightDecay, gradClip, seed, valEvery, valTokens, logEvery, budget, warmdown, wallclock, accum, sampler,
                muonMomentum, muonStart, muonWarmup, nsSteps, groups, r.enumValue("precision", Precision.values()));
    }

    private static int gradAccum(FieldReader r, int batchTokens, int seqLen) {
        Integer k = r.optInteger("grad_accum_steps");
        Integer micro = r.optInteger("micro_batch_tokens");
        if (k != null) r.check(k > 0, "grad_accum_steps", "must be > 0, got " + k, "use 1 for no accumulation");
        if (micro != null) {
            r.check(micro > 0 && micro % seqLen == 0 && batchTokens % micro == 0, "micro_batch_tokens",
                    micro + " must be a positive multiple of seq_len " + seqLen + " that divides batch_tokens " + batchTokens,
                    "use e.g. " + seqLen * Math.max(1, batchTokens / seqLen / 2) + " or leave it out");
            int fromMicro = batchTokens / micro;
            r.check(k == null || k == fromMicro, "grad_accum_steps", k + " disagrees with micro_batch_tokens " + micro
                    + " (batch_tokens / micro_batch_tokens = " + fromMicro + ")", "give only one of the two");
            return fromMicro;
        }
        if (k == null) return 1;
        r.check(batchTokens % ((long) k * seqLen) == 0, "grad_accum_steps", "batch_tokens " + batchTokens
                + " is not a multiple of grad_accum_steps·seq_len = " + (long) k * seqLen,
                "use a grad_accum_steps that divides batch_tokens / seq_len = " + batchTokens / seqLen);
        return k;
    }

    private static List<ParamGroup> groups(FieldReader r, Optimizer optimizer, double lr, double beta1, double beta2,
                                           double eps, double wd) {
        JsonNode arr = r.node("param_groups");
        if (arr == null || arr.isNull()) {
            return optimizer == Optimizer.MUON ? ParamGroup.golfDefaults(beta1, beta2, eps) : List.of();
        }
        if (!arr.isArray()) {
            throw r.error("param_groups", "expected an array of groups, got " + FieldReader.describe(arr),
                    "write \"param_groups\": [{\"match\": \"blocks.*\", \"rank\": \"2\", \"optimizer\": \"muon\", \"lr\": 0.04}]");
        }
        List<ParamGroup> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            FieldReader g = r.child("param_groups", i, arr.get(i), Schema.PARAM_GROUP);
            String name = g.optString("name");
            if (name == null) name = "group" + i;
            List<String> match = match(g);
            String rank = g.nullableString("rank");
            if (rank != null) {
                g.check(ParamGroup.RANK.matcher(rank).matches(), "rank", "cannot read rank condition \"" + rank + "\"",
                        "write e.g. \">=2\", \"2\" or \"<2\"");
            }
            String tag = g.nullableString("tag");
            Optimizer opt = g.node("optimizer") == null ? optimizer : g.enumValue("optimizer", Optimizer.values());
            Double glr = g.optNumber("lr");
            if (glr == null) glr = lr;
            g.check(glr > 0, "lr", "must be > 0, got " + glr, "use e.g. 0.04");
            Double b1 = g.optNumber("beta1"), b2 = g.optNumber("beta2"), e = g.optNumber("eps"), w = g.optNumber("weight_decay");
            double gb1 = b1 == null ? beta1 : unitInterval(g, "beta1", b1);
            double gb2 = b2 == null ? beta2 : unitInterval(g, "beta2", b2);
            double geps = e == null ? eps : e;
            g.check(geps > 0, "eps", "must be > 0, got " + geps, "use e.g. 1e-8");
            double gwd = w == null ? wd : nonNegative(g, "weight_decay", w);
            out.add(new ParamGroup(name, match, rank, tag, opt, glr, gb1, gb2, geps, gwd));
        }
        return out;
    }

    private static List<String> match(FieldReader g) {
        JsonNode m = g.node("match");
        if (m == null) return List.of("*");
        List<String> out = new ArrayList<>();
        if (m.isTextual()) out.add(m.textValue());
        else if (m.isArray() && !m.isEmpty()) {
            for (JsonNode x : m) {
                if (!x.isTextual()) throw g.error("match", "expected strings, got " + FieldReader.describe(x), "write \"blocks.*\" or [\"a\", \"b\"]");
                out.add(x.textValue());
            }
        } else {
            throw g.error("match", "expected a pattern or a non-empty array of patterns, got " + FieldReader.describe(m),
                    "write \"blocks.*\", \"/regex/\" or [\"a\", \"b\"]");
        }
        for (String p : out) {
            if (p.length() >= 2 && p.startsWith("/") && p.endsWith("/")) {
                try {
                    java.util.regex.Pattern.compile(p.substring(1, p.length() - 1));
                } catch (java.util.regex.PatternSyntaxException ex) {
                    throw g.error("match", "bad regular expression " + p + ": " + ex.getDescription(), "fix the regex or use a glob");
                }
            }
        }
        return out;
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
