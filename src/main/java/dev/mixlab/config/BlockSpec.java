package dev.mixlab.config;

/**
 * One entry of the {@code blocks} list: a residual block, standing for {@link #repeat()}
 * identical consecutive layers. JSON form: {@code {"type": "...", ...options}}.
 */
public sealed interface BlockSpec permits PlainBlock, MlpBlock, SwigluBlock, GatedDeltaNetBlock, Mamba2Block {
    /** @return the JSON {@code type} of this block, e.g. {@code "plain"} */
    String type();

    /** @return how many identical consecutive layers this spec stands for (at least 1) */
    int repeat();

    /** @return the resolved feed-forward width multiplier (block value or the top-level one) */
    double mlpMult();

    /** @return this spec with a different {@code repeat} */
    BlockSpec withRepeat(int repeat);
}
