package dev.mixlab.arch;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.ir.Value;

/**
 * A layer type: given the residual stream {@code x[B,T,D]}, emits its IR and returns the new
 * stream. Parameters are named {@code blocks.<layer>.<part>}.
 */
@FunctionalInterface
public interface Block<S extends BlockSpec> {
    Value apply(ModelContext ctx, S spec, int layer, Value x);
}
