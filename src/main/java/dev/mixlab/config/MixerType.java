package dev.mixlab.config;

import java.util.Locale;

/** The mixer half of a {@link MoeBlock}: the block type whose mixer it is ({@code plain}, {@code mla}, {@code gated_deltanet}, {@code mamba2}, {@code mamba}). */
public enum MixerType implements JsonEnum {
    PLAIN, MLA, GATED_DELTANET, MAMBA2, MAMBA;

    /** @return the spelling used in config files (lower case, as the block type) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
