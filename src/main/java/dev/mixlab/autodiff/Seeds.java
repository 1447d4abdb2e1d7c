package dev.mixlab.autodiff;

import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;

/** The initial cotangent of a scalar loss: a program input named {@code <loss>.grad_seed}, fed 1.0. */
final class Seeds {
    private Seeds() {}

    /** Name of the seed input for the loss output; backends feed it 1 (or a loss scale). */
    static final String SUFFIX = "grad_seed";

    static Value one(ProgramBuilder b, Value loss) {
        return b.input(SUFFIX, new TensorType(loss.shape(), loss.dtype()));
    }
}
