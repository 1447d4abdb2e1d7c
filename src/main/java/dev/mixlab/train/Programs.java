package dev.mixlab.train;

import dev.mixlab.arch.LanguageModel;
import dev.mixlab.arch.RouterTap;
import java.util.ArrayList;
import dev.mixlab.autodiff.Autodiff;
import dev.mixlab.config.Config;
import dev.mixlab.ir.*;
import dev.mixlab.optim.OptimizerEmitter;
import java.util.List;
import java.util.Map;

/**
 * The programs a run executes: one training step (forward, loss, backward, clipping, optimizer, all
 * in one program) and the evaluation forward pass. Names of inputs and outputs are constants here.
 */
public final class Programs {
    private Programs() {}

    public static final String IDS = "ids", TARGETS = "targets", SEED = "seed", GRAD_SEED = "grad_seed";
    public static final String LOSS = "loss", GRAD_NORM = "grad_norm";
    /** Train-step output: the sum of the mixture-of-experts load-balancing losses (present when a layer has one). */
    public static final String AUX_LOSS = "aux_loss";

    /** Eval-program output of layer i's expert load {@code [E]} (tokens that chose each expert). */
    public static String moeLoad(int layer) {
        return "moe." + layer + ".load";
    }

    /** Eval-program output of layer i's count of assignments dropped by the capacity limit (scalar). */
    public static String moeDropped(int layer) {
        return "moe." + layer + ".dropped";
    }

    /** The parameters gradients flow to: all but {@code buffer}-tagged ones (updated by their own rules). */
    public static List<Value> trainable(ProgramBuilder b) {
        return b.params().stream().filter(p -> !p.tags().contains(RouterTap.BUFFER)).toList();
    }

    /** Sequences per step: {@code batch_tokens / seq_len}. */
    public static int batch(Config c) {
        return c.training().batchTokens() / c.seqLen();
    }

    /** Micro-batches per step ({@code grad_accum_steps}). */
    public static int accumSteps(Config c) {
        return c.training().gradAccumSteps();
    }

    /** Name of micro-batch i's input {@code base} ({@code ids}, {@code targets}, {@code seed}): the base name when there is one micro-batch, else {@code base.i}. */
    public static String micro(String base, int i, int k) {
        return k == 1 ? base : base + "." + i;
    }

    /** The training step for {@code batch} sequences of the config's length, in {@code grad_accum_steps} micro-batches. */
    public static Program trainStep(Config c, int batch) {
        return trainStep(c, batch, accumSteps(c));
    }

    /**
     * The training step for {@code batch} sequences in {@code k} micro-batches of {@code batch/k}:
     * still one program. Micro-batch i has inputs {@code ids.i}, {@code targets.i} (and
     * {@code seed.i} with dropout), or the plain names when k = 1. Its forward pass and backward
     * pass are emitted before the next micro-batch's, with the loss cotangent {@code grad_seed/k}, and
     * gradients are summed as they come, so activations live one micro-batch at a time (the memory
     * plan reuses their buffers) and the result is the gradient of the mean loss over the whole
     * batch. Then one clip and one update. Output {@code loss} is the mean of the micro-batch losses.
     */
    public static Program trainStep(Config c, int batch, int k) {
        if (k < 1 || batch % k != 0) throw new IrException("batch " + batch + " is not a multiple of grad_accum_steps " + k);
        int mb = batch / k;
        ProgramBuilder b = new ProgramBuilder("train_step");
        Shape bt = Shape.of(mb, c.seqLen());
        Value[] ids = new Value[k], targets = new Value[k], seeds = new Value[k];
        for (int i = 0; i < k; i++) {
            ids[i] = b.input(micro(IDS, i, k), TensorType.i32(bt));
            targets[i] = b.input(micro(TARGETS, i, k), TensorType.i32(bt));
        }
        Value lr = b.input(OptimizerEmitter.LR, TensorType.f32(Shape.SCALAR));
        Value step = b.input(OptimizerEmitter.STEP, TensorType.f32(Shape.SCALAR));
        for (int i = 0; i < k; i++) {
            seeds[i] = LanguageModel.needsSeed(c) ? b.input(micro(SEED, i, k), TensorType.i32(Shape.SCALAR)) : null;
        }
        Value loss = null, auxTotal = null;
        Map<Value, Value> grads;
        List<List<RouterTap>> taps = new ArrayList<>();
        if (k == 1) {
            LanguageModel.Forward fwd = LanguageModel.forward(b, c, ids[0], true, seeds[0]);
            taps.add(fwd.routers());
            Value objective;
            try (var s = b.scope("loss")) {
                loss = b.crossEntropy(fwd.logits(), targets[0]);
                auxTotal = auxSum(b, fwd.routers());
                objective = auxTotal == null ? loss : b.add(loss, auxTotal);
            }
            grads = Autodiff.gradients(b, objective, trainable(b));
        } else {
            Value gradSeed = b.input(GRAD_SEED, TensorType.f32(Shape.SCALAR));
            grads = new java.util.LinkedHashMap<>();
            for (int i = 0; i < k; i++) {
                Value li;
                try (var s = b.scope("micro" + i)) {
                    b.shareParams(i > 0);
                    LanguageModel.Forward fwd = LanguageModel.forward(b, c, ids[i], true, seeds[i]);
                    b.shareParams(false);
                    taps.add(fwd.routers());
                    Value objective;
                    try (var s2 = b.scope("loss")) {
                        li = b.crossEntropy(fwd.logits(), targets[i]);
                        Value ai = auxSum(b, fwd.routers());
                        objective = ai == null ? li : b.add(li, ai);
                        if (ai != null) auxTotal = auxTotal == null ? b.scale(ai, 1.0 / k) : b.add(auxTotal, b.scale(ai, 1.0 / k));
                    }
                    Value ct = b.scale(gradSeed, 1.0 / k);
                    Map<Value, Value> gi = Autodiff.vjp(b, List.of(objective), List.of(ct), trainable(b));
                    for (Map.Entry<Value, Value> e : gi.entrySet()) grads.merge(e.getKey(), e.getValue(), b::add);
                }
                Value part = b.scale(li, 1.0 / k);
                loss = loss == null ? part : b.add(loss, part);
            }
        }
        Value norm = OptimizerEmitter.emit(b, c.training(), grads, lr, step);
        balanceBiases(b, taps);
        b.output(LOSS, loss);
        b.output(GRAD_NORM, norm);
        if (auxTotal != null) b.output(AUX_LOSS, auxTotal);
        return b.build();
    }

    /** The sum of the layers' load-balancing losses, or null when none has one. */
    private static Value auxSum(ProgramBuilder b, List<RouterTap> taps) {
        Value sum = null;
        for (RouterTap t : taps) if (t.auxLoss() != null) sum = sum == null ? t.auxLoss() : b.add(sum, t.auxLoss());
        return sum;
    }

    /**
     * DeepSeek-V3's bias update after the optimizer, once per step: each balanced layer's bias moves
     * by the sign of (mean load − load) of the whole step (loads summed over micro-batches).
     */
    private static void balanceBiases(ProgramBuilder b, List<List<RouterTap>> taps) {
        for (int l = 0; l < taps.get(0).size(); l++) {
            RouterTap first = taps.get(0).get(l);
            if (first.bias() == null) continue;
            Value load = first.load();
            for (int i = 1; i < taps.size(); i++) load = b.add(load, taps.get(i).get(l).load());
            try (var s = b.scope("balance." + first.layer())) {
                b.apply1(new BiasBalance(first.biasRate()), first.bias(), load);
            }
        }
    }

    /** The targets input and the logits of a forward pass without dropout over the ids input. */
    private record Inference(Value targets, Value logits, List<RouterTap> routers) {}

    private static Inference inference(ProgramBuilder b, Config c, int batch) {
        Shape bt = Shape.of(batch, c.seqLen());
        Value ids = b.input(IDS, TensorType.i32(bt));
        Value targets = b.input(TARGETS, TensorType.i32(bt));
        LanguageModel.Forward f = LanguageModel.forward(b, c, ids, false, null);
        return new Inference(targets, f.logits(), f.routers());
    }

    /**
     * Forward pass and loss without dropout, for validation; with mixture-of-experts layers also
     * each layer's expert load and dropped-assignment count ({@link #moeLoad}, {@link #moeDropped}).
     */
    public static Program eval(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("eval");
        Inference f = inference(b, c, batch);
        Value targets = f.targets(), logits = f.logits();
        b.output(LOSS, b.crossEntropy(logits, targets));
        for (RouterTap t : f.routers()) {
            b.output(moeLoad(t.layer()), t.load());
            b.output(moeDropped(t.layer()), t.dropped());
        }
        return b.build();
    }

    /** Loss, logits and every parameter's gradient as outputs {@code grad.<name>} (no update): for checks. */
    public static Program gradients(Config c, int batch) {
        ProgramBuilder b = new ProgramBuilder("gradients");
        Inference f = inference(b, c, batch);
        Value targets = f.targets(), logits = f.logits();
        Value loss = b.crossEntropy(logits, targets);
        Map<Value, Value> grads = Autodiff.gradients(b, loss, trainable(b));
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
        Inference f = inference(b, c, batch);
        Value targets = f.targets(), logits = f.logits();
        b.output("logits", logits);
        b.output(LOSS, b.crossEntropy(logits, targets));
        return b.build();
    }
}
