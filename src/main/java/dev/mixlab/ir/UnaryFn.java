package dev.mixlab.ir;

/** Pointwise functions: the activations, the logit soft-cap's tanh, exp, and the sigmoid of gates. */
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
    /** {@code e^x} (differential attention's λ reparameterisation). */
    EXP(4),
    /** The logistic function {@code 1/(1 + e^(−x))} (gates). */
    SIGMOID(5);

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
