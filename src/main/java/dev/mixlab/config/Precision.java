package dev.mixlab.config;

import java.util.Locale;

/** Numerics of a run on a GPU backend (the CPU computes in float32 either way). */
public enum Precision implements JsonEnum {
    /** Float32 storage, master weights, optimizer state and reductions; products on tensor cores (TF32), attention in bf16. */
    MIXED,
    /** Float32 throughout, tensor cores off: slower, bit-closer to the CPU. */
    FP32;

    /** @return the spelling used in config files (lower case) */
    @Override
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }
}
