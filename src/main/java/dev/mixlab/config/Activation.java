package dev.mixlab.config;

import java.util.Locale;

/** Nonlinearity of a feed-forward layer; {@code relu2} is squared ReLU, {@code gelu_tanh} GELU's tanh approximation. */
public enum Activation implements JsonEnum {
    GELU, RELU, SILU, RELU2, GELU_TANH;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
