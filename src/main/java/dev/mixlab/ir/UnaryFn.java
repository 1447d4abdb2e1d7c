package dev.mixlab.ir;

/** Pointwise functions: the activations, the logit soft-cap's tanh, exp, the sigmoid of gates, and the softplus of the
 *  recurrent mixers' step sizes. */
public enum UnaryFn {
    /** Exact GELU, {@code x·Φ(x)} with the normal CDF (PyTorch's default). */
    GELU(14),
    /** GELU's tanh approximation, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))} (GPT-2's {@code gelu_new}). */
    GELU_TANH(12),
    RELU(1),
    /** {@code x·sigmoid(x)}. */
    SILU(8),
    /** {@code relu(x)²}. */
    RELU2(2),
    TANH(8),
    /** {@code e^x} (differential attention's λ reparameterisation; a decay rate from its logarithm, as Mamba's
     *  {@code A = -exp(A_log)}). */
    EXP(4),
    /** The logistic function {@code 1/(1 + e^(−x))} (gates; the delta rule's writing strength β). */
    SIGMOID(5),
    /** {@code log(1 + e^x)}, computed as {@code max(x,0) + log1p(e^-|x|)} (the recurrent mixers' step sizes). */
    SOFTPLUS(10),
    /** {@code log(softplus(x))}, {@code x} itself below −20 (Mamba-1's log step size, for its log decay δ·A). */
    LOG_SOFTPLUS(12);

    private final int flops;

    UnaryFn(int flops) {
        this.flops = flops;
    }

    /** Approximate FLOPs per element (forward). */
    public int flops() {
        return flops;
    }

    public String jsonName() {
        return name().toLowerCase();
    }
}
