package dev.mixlab.config;

import java.util.Locale;

/** Optimiser used for training. */
public enum Optimizer implements JsonEnum {
    ADAMW, ADAM, SGD;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
