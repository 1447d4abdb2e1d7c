package dev.mixlab.config;

/** An enum whose constants are written in config files by {@link #jsonName()}. */
interface JsonEnum {
    /** @return the spelling used in config files */
    String jsonName();
}
