package dev.mixlab.infer;

/**
 * How the next token is drawn. {@code temperature == 0} is greedy. {@code topK <= 0} and
 * {@code topP >= 1} disable those filters; {@code repetitionPenalty} 1 disables the CTRL-style
 * penalty (positive logits of tokens already in the sequence are divided by it, negative ones
 * multiplied).
 */
public record SamplingOptions(double temperature, int topK, double topP, double repetitionPenalty, long seed) {
    public static SamplingOptions greedy() {
        return new SamplingOptions(0, 0, 1, 1, 0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }
}
