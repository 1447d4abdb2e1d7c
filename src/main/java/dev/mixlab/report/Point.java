package dev.mixlab.report;

/**
 * One logged step of a run ({@code metrics.jsonl}); {@code valLoss} is NaN on steps without
 * validation, other missing numbers are NaN too.
 */
public record Point(long step, double tokens, double elapsedS, double loss, double valLoss) {}
