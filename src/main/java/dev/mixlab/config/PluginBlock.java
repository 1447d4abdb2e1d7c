package dev.mixlab.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.arch.BlockProvider;

/**
 * A block of a plug-in type ({@link BlockProvider}, found through {@link java.util.ServiceLoader}):
 * the provider, the record its fields parsed into, and the fields as written (so the config can be
 * written back).
 *
 * @param provider the plug-in that parsed {@code spec} and builds the layer
 * @param spec     the parsed fields
 * @param fields   the entry's own fields as JSON (without {@code type}, {@code repeat} and {@code mlp_mult})
 * @param mlpMult  the entry's {@code mlp_mult}, or the top-level one
 * @param repeat   number of identical consecutive layers
 */
public record PluginBlock(BlockProvider<?> provider, Record spec, ObjectNode fields, double mlpMult, int repeat)
        implements BlockSpec {
    /** Copies {@code fields} so the record stays immutable. */
    public PluginBlock {
        fields = fields.deepCopy();
    }

    @Override public String type() { return provider.type(); }

    @Override public PluginBlock withRepeat(int repeat) { return new PluginBlock(provider, spec, fields, mlpMult, repeat); }

    /** @return a copy of the entry's own fields */
    @Override public ObjectNode fields() { return fields.deepCopy(); }
}
