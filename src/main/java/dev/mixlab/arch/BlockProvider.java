package dev.mixlab.arch;

import dev.mixlab.config.BlockField;
import dev.mixlab.config.BlockFields;
import dev.mixlab.ir.Value;
import java.util.List;

/**
 * A block type implemented outside mixlab: a jar on the class path lists its implementation in
 * {@code META-INF/services/dev.mixlab.arch.BlockProvider}, and configs can then use
 * {@code {"type": type(), ...fields()}}. The block emits existing IR ops (through
 * {@link ModelContext} and the public helpers of {@link Blocks}), so it runs on every backend and
 * works with the trainer, checkpoints, {@code count} and decoding (as long as it keeps no state
 * across positions of its own). See {@code docs/plugins.md}.
 *
 * @param <S> the record the block's JSON fields parse into
 */
public interface BlockProvider<S extends Record> {
    /** @return the JSON {@code type} name; must not clash with a built-in block type or another plug-in */
    String type();

    /** @return the fields besides {@code type}, {@code repeat} and {@code mlp_mult} (which every block has) */
    List<BlockField> fields();

    /** Reads the declared fields into the spec; check values with {@link BlockFields#check} (one-line errors). */
    S parse(BlockFields fields);

    /**
     * Emits one layer: given the residual stream {@code x[B,T,D]}, returns the new stream. Parameters
     * must be named {@code blocks.<layer>.<part>} (the builder is already in that scope).
     */
    Value apply(ModelContext ctx, S spec, int layer, Value x);

    /** Applies a spec this provider parsed (the cast is safe: {@link dev.mixlab.config.PluginBlock} pairs them). */
    @SuppressWarnings("unchecked")
    default Value applyParsed(ModelContext ctx, Record spec, int layer, Value x) {
        return apply(ctx, (S) spec, layer, x);
    }
}
