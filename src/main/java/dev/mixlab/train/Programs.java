package dev.mixlab.train;

import dev.mixlab.arch.LanguageModel;
import dev.mixlab.autodiff.Autodiff;
import dev.mixlab.config.Config;
import dev.mixlab.ir.*;
import dev.mixlab.optim.OptimizerEmitter;
import java.util.Map;

/**
 * The programs a run executes: one training step (forward, loss, backward, clipping, optimizer, all
 * in one program) and the evaluation forward pass. Names of inputs and outputs are constants here.
 */
public final class Programs {
    private Programs() {}

    public static final String IDS = "ids", TARGETS = "targets", SEED = "seed", GRAD_SEED = "grad_seed";
    public static final String LOSS = "loss", GRAD_NORM = "grad_norm";

    /** Sequences per step: {@code batch_tokens / seq_len}. */
    public static int batch(Config c) {
        return c.training().batchTokens() / c.seqLen();
    }

    /** The training step for {@code batch} sequences of the config's length. */
    public static Program trainStep(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("train_step");
        Shape bt = Shape.of(batch, c.seqLen());
        Value ids = b.input(IDS, TensorType.i32(bt));
        Value targets = b.input(TARGETS, TensorType.i32(bt));
        Value lr = b.input(OptimizerEmitter.LR, TensorType.f32(Shape.SCALAR));
        Value step = b.input(OptimizerEmitter.STEP, TensorType.f32(Shape.SCALAR));
        Value seed = LanguageModel.needsSeed(c) ? b.input(SEED, TensorType.i32(Shape.SCALAR)) : null;
        Value logits = LanguageModel.logits(b, c, ids, true, seed);
        Value loss;
        try (var s = b.scope("loss")) {
            loss = b.crossEntropy(logits, targets);
        }
        Map<Value, Value> grads = Autodiff.gradients(b, loss, b.params());
        Value norm = OptimizerEmitter.emit(b, c.training(), grads, lr, step);
        b.output(LOSS, loss);
        b.output(GRAD_NORM, norm);
        return b.build();
    }

    /** Forward pass and loss without dropout, for validation. */
    public static Program eval(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("eval");
        Shape bt = Shape.of(batch, c.seqLen());
        Value ids = b.input(IDS, TensorType.i32(bt));
        Value targets = b.input(TARGETS, TensorType.i32(bt));
        Value logits = LanguageModel.logits(b, c, ids, false, null);
        b.output(LOSS, b.crossEntropy(logits, targets));
        return b.build();
    }

    /** Loss, logits and every parameter's gradient as outputs {@code grad.<name>} (no update): for checks. */
    public static Program gradients(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("gradients");
        Shape bt = Shape.of(batch, c.seqLen());
        Value ids = b.input(IDS, TensorType.i32(bt));
        Value targets = b.input(TARGETS, TensorType.i32(bt));
        Value logits = LanguageModel.logits(b, c, ids, false, null);
        Value loss = b.crossEntropy(logits, targets);
        Map<Value, Value> grads = Autodiff.gradients(b, loss, b.params());
        b.output(LOSS, loss);
        b.output("logits", logits);
        grads.forEach((p, g) -> b.output("grad." + p.name(), g));
        return b.build();
    }

    /** Name of the decode position input. */
    public static final String POS = "pos";

    /**
     * One incremental-decoding call for {@code batch} sequences of {@code tokens} new tokens at
     * positions {@code pos..pos+tokens-1}: inputs {@code ids}, {@code pos}; output {@code logits};
     * state {@code cache.*} carries keys and values between calls.
     */
    public static Program decode(Config c, int batch, int tokens) {
        ProgramBuilder b = new ProgramBuilder("decode");
        Value ids = b.input(IDS, TensorType.i32(Shape.of(batch, tokens)));
        Value pos = b.input(POS, TensorType.i32(Shape.SCALAR));
        b.output("logits", LanguageModel.decodeLogits(b, c, ids, pos));
        return b.build();
    }

    /** Forward pass only, exposing logits (for tests and generation). */
    public static Program forward(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("forward");
        Shape bt = Shape.of(batch, c.seqLen());
        Value ids = b.input(IDS, TensorType.i32(bt));
        Value targets = b.input(TARGETS, TensorType.i32(bt));
        Value logits = LanguageModel.logits(b, c, ids, false, null);
        b.output("logits", logits);
        b.output(LOSS, b.crossEntropy(logits, targets));
        return b.build();
    }
}
