package dev.mixlab.config;

import java.util.Locale;

/** How token positions enter the model. */
public enum PositionalEmbedding implements JsonEnum {
    LEARNED_ABSOLUTE, ROPE, NONE;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
