package dev.mixlab.config;

import java.util.Locale;

/** Normalisation layer used before each sublayer and at the end. */
public enum NormType implements JsonEnum {
    LAYERNORM, RMSNORM;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
