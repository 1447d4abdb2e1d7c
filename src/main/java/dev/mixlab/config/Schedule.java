package dev.mixlab.config;

import java.util.Locale;

/** Learning-rate schedule after warmup. */
public enum Schedule implements JsonEnum {
    COSINE, LINEAR, CONSTANT,
    /** Constant, then linear to {@code min_lr} over the last {@code warmdown_steps} steps (or by wall clock). */
    WARMDOWN;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
