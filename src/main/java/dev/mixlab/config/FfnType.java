package dev.mixlab.config;

import java.util.Locale;

/** Feed-forward tail of a {@link PlainBlock}: classic MLP, SwiGLU, or none. */
public enum FfnType implements JsonEnum {
    MLP, SWIGLU, NONE;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
