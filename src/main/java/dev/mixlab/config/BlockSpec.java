package dev.mixlab.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One entry of the {@code blocks} list: a residual block, standing for {@link #repeat()}
 * identical consecutive layers. JSON form: {@code {"type": "...", ...options}}.
 */
public sealed interface BlockSpec permits MixerSpec, MlpBlock, SwigluBlock, MoeBlock, GroupBlock, PluginBlock, RetnetBlock,
        MlstmBlock, RwkvBlock {
    /** @return the JSON {@code type} of this block, e.g. {@code "plain"} */
    String type();

    /** @return how many identical consecutive layers this spec stands for (at least 1) */
    int repeat();

    /** @return the resolved feed-forward width multiplier (block value or the top-level one) */
    double mlpMult();

    /** @return this spec with a different {@code repeat} */
    BlockSpec withRepeat(int repeat);

    /**
     * @return the layers this spec stands for, in order, each a spec with repeat 1 that the engine
     *         builds as one layer; by default {@link #repeat()} copies of {@code withRepeat(1)}
     *         ({@link PlainBlock} resolves its {@code layer_pattern}, {@link GroupBlock} its sub-list)
     */
    default List<BlockSpec> layers() {
        return Collections.nCopies(repeat(), withRepeat(1));
    }

    /** @return the layers of all {@code specs}, concatenated in order */
    static List<BlockSpec> layers(List<BlockSpec> specs) {
        List<BlockSpec> out = new ArrayList<>();
        for (BlockSpec b : specs) out.addAll(b.layers());
        return List.copyOf(out);
    }
}
