package dev.mixlab.config;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code "type": "group"}: a sub-list of blocks repeated as a unit, so a hybrid layer pattern such as
 * "three recurrent layers, then one attention layer, four times" is one entry. The engine sees only
 * the flattened layers ({@link #layers()}): layer indices, and so parameter names
 * {@code blocks.<layer>.…}, count through the expansion. Groups may nest.
 *
 * @param blocks the sub-list, in order (not empty)
 * @param repeat how many times the whole sub-list repeats
 */
public record GroupBlock(List<BlockSpec> blocks, int repeat) implements BlockSpec {
    /** JSON type name. */
    public static final String TYPE = "group";

    /** Copies {@code blocks} so the record stays immutable. */
    public GroupBlock {
        blocks = List.copyOf(blocks);
        if (blocks.isEmpty()) throw new IllegalArgumentException("a group needs at least one block");
    }

    @Override public String type() { return TYPE; }

    /** A group has no FFN of its own: its blocks carry their widths. */
    @Override public double mlpMult() { return 0; }

    @Override public GroupBlock withRepeat(int repeat) { return new GroupBlock(blocks, repeat); }

    /** @return the sub-list's layers, {@code repeat} times over */
    @Override public List<BlockSpec> layers() {
        List<BlockSpec> one = BlockSpec.layers(blocks), out = new ArrayList<>();
        for (int i = 0; i < repeat; i++) out.addAll(one);
        return List.copyOf(out);
    }
}
