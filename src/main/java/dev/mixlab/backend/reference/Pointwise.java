package dev.mixlab.backend.reference;

import dev.mixlab.ir.UnaryFn;

/** Pointwise functions and their derivatives in float64. */
public final class Pointwise {
    private Pointwise() {}

    /** √(2/π) and the cubic coefficient of GELU's tanh approximation. */
    static final double GELU_C = Math.sqrt(2 / Math.PI), GELU_A = 0.044715;

    public static double f(UnaryFn fn, double x) {
        return switch (fn) {
            case GELU -> x * Erf.cdf(x);
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_A * x * x * x)));
            case RELU -> x > 0 ? x : 0;
            case SILU -> x / (1 + Math.exp(-x));
            case RELU2 -> x > 0 ? x * x : 0;
            case TANH -> Math.tanh(x);
            case SOFTPLUS -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
            case EXP -> Math.exp(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case LOG_SOFTPLUS -> x < -20 ? x : Math.log(Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
        };
    }

    public static double df(UnaryFn fn, double x) {
        return switch (fn) {
            case GELU -> Erf.cdf(x) + x * Erf.phi(x);
            case GELU_TANH -> {
                double t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
            }
            case RELU -> x > 0 ? 1 : 0;
            case SILU -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 + x * (1 - s));
            }
            case RELU2 -> x > 0 ? 2 * x : 0;
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
            case EXP -> Math.exp(x);
            case SIGMOID -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 - s);
            }
            case SOFTPLUS -> 1 / (1 + Math.exp(-x));
            case LOG_SOFTPLUS -> x < -20 ? 1 : 1 / (1 + Math.exp(-x)) / (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
        };
    }
}
