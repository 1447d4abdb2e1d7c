package dev.mixlab.config;

import java.util.Locale;

/** The attention half of a {@link MoeBlock}: {@code plain} ({@link PlainBlock}) or {@code mla} ({@link MlaBlock}). */
public enum AttentionType implements JsonEnum {
    PLAIN, MLA;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
