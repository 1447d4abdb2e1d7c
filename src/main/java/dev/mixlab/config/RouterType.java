package dev.mixlab.config;

import java.util.Locale;

/** How a {@link MoeBlock}'s router turns logits into expert affinities: softmax (Mixtral) or sigmoid (DeepSeek-V3). */
public enum RouterType implements JsonEnum {
    SOFTMAX, SIGMOID;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
