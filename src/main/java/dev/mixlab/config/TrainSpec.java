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
 */
public record TrainSpec(
        int steps, double lr, double minLr, Schedule schedule, int warmupSteps, int batchTokens,
        Optimizer optimizer, double beta1, double beta2, double eps, double weightDecay, double gradClip,
        long seed, int valEverySteps, int valTokens, int logEverySteps, int timeBudgetSeconds) {
}
