package dev.mixlab.config;

/**
 * JSON section {@code training}: optimisation, schedule, evaluation and logging.
 * See {@code docs/config.md} for defaults and allowed ranges.
 *
 * @param steps             optimiser steps
 * @param lr                peak learning rate
 * @param minLr             learning rate at the end of the decay
 * @param schedule          decay after warmup
 * @param warmupSteps       linear warmup steps (less than steps)
 * @param batchTokens       tokens per optimiser step (a multiple of seq_len)
 * @param optimizer         optimiser
 * @param beta1             first-moment decay
 * @param beta2             second-moment decay
 * @param eps               optimiser epsilon
 * @param weightDecay       decoupled weight decay
 * @param gradClip          global gradient-norm clip; 0 turns it off
 * @param seed              random seed for init and data order
 * @param valEverySteps     validate every N steps; 0 means only at the end
 * @param valTokens         tokens per validation pass
 * @param logEverySteps     log every N steps
 * @param timeBudgetSeconds stop after this many seconds; 0 means no limit
 * @param warmdownSteps     {@code warmdown} schedule: steps of the final linear decay
 * @param maxWallclockSeconds hard stop on training time (validation excluded); with {@code warmdown},
 *                          the decay is timed by wall clock as the seed's {@code lr_mul}; 0 = off
 * @param gradAccumSteps    micro-batches per optimiser step (gradients accumulated, one update)
 * @param sampler           how training batches are drawn
 * @param muonMomentum      Muon momentum after warmup
 * @param muonMomentumWarmupStart Muon momentum at step 0
 * @param muonMomentumWarmupSteps steps of the linear momentum warmup; 0 = none
 * @param muonNsSteps       Newton–Schulz iterations
 * @param paramGroups       optimizer groups (first match wins); empty = one group, the section's optimizer
 */
public record TrainSpec(
        int steps, double lr, double minLr, Schedule schedule, int warmupSteps, int batchTokens,
        Optimizer optimizer, double beta1, double beta2, double eps, double weightDecay, double gradClip,
        long seed, int valEverySteps, int valTokens, int logEverySteps, int timeBudgetSeconds,
        int warmdownSteps, double maxWallclockSeconds, int gradAccumSteps, DataSampler sampler,
        double muonMomentum, double muonMomentumWarmupStart, int muonMomentumWarmupSteps, int muonNsSteps,
        java.util.List<ParamGroup> paramGroups, Precision precision) {

    public TrainSpec {
        paramGroups = java.util.List.copyOf(paramGroups);
    }

    /** The fields before the parameter-golf features, with those at their defaults. */
    public TrainSpec(int steps, double lr, double minLr, Schedule schedule, int warmupSteps, int batchTokens,
                     Optimizer optimizer, double beta1, double beta2, double eps, double weightDecay, double gradClip,
                     long seed, int valEverySteps, int valTokens, int logEverySteps, int timeBudgetSeconds) {
        this(steps, lr, minLr, schedule, warmupSteps, batchTokens, optimizer, beta1, beta2, eps, weightDecay, gradClip,
                seed, valEverySteps, valTokens, logEverySteps, timeBudgetSeconds, 0, 0.0, 1, DataSampler.RANDOM,
                0.95, 0.85, 500, 5, java.util.List.of(), Precision.MIXED);
    }

    /** Tokens per micro-batch: {@code batch_tokens / grad_accum_steps}. */
    public int microBatchTokens() {
        return batchTokens / gradAccumSteps;
    }

    /** A copy with other steps, warmup, seed and time budget (the trainer's command-line overrides). */
    public TrainSpec withRun(int steps, int warmupSteps, long seed, int timeBudgetSeconds) {
        return new TrainSpec(steps, lr, minLr, schedule, warmupSteps, batchTokens, optimizer, beta1, beta2, eps,
                weightDecay, gradClip, seed, valEverySteps, valTokens, logEverySteps, timeBudgetSeconds, warmdownSteps,
                maxWallclockSeconds, gradAccumSteps, sampler, muonMomentum, muonMomentumWarmupStart,
                muonMomentumWarmupSteps, muonNsSteps, paramGroups, precision);
    }

    /** The Muon momentum at a step (0-based), as the seed: linear from the warmup start over the warmup steps. */
    public double muonMomentumAt(int step) {
        if (muonMomentumWarmupSteps <= 0) return muonMomentum;
        double t = Math.min((double) step / muonMomentumWarmupSteps, 1.0);
        return (1 - t) * muonMomentumWarmupStart + t * muonMomentum;
    }
}
