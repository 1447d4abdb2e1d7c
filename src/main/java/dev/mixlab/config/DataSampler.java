package dev.mixlab.config;

import java.util.Locale;

/** How training batches are drawn from the train split. */
public enum DataSampler implements JsonEnum {
    /** Windows at uniform random positions (seeded). */
    RANDOM,
    /** The seed's TokenStream: consecutive chunks of the sorted shards, wrapping around at the end. */
    SEQUENTIAL;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
