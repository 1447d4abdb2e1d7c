package dev.mixlab.config;

import java.util.Locale;

/** Optimiser used for training. */
public enum Optimizer implements JsonEnum {
    ADAMW, ADAM, SGD,
    /** Muon for 2-D matrices, with {@code param_groups} routing the other tensors to Adam (the parameter-golf split). */
    MUON;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
