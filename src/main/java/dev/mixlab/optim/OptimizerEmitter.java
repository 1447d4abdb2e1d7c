package dev.mixlab.optim;

import dev.mixlab.config.TrainSpec;
import dev.mixlab.ir.AdamW;
import dev.mixlab.ir.GradClip;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Sgd;
import dev.mixlab.ir.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Emits the optimizer into the training-step program: global-norm clipping over all gradients,
 * then one in-place update per parameter. Weight decay applies to parameters of rank ≥ 2 (matrices
 * and embeddings), not to norm gains or biases, as nanoGPT does.
 */
public final class OptimizerEmitter {
    private OptimizerEmitter() {}

    /** Names of the scalar inputs the trainer feeds each step. */
    public static final String LR = "lr", STEP = "step";

    /** Emits clipping and updates; returns the gradient-norm value (before clipping). */
    public static Value emit(ProgramBuilder b, TrainSpec t, Map<Value, Value> grads, Value lr, Value step) {
        List<Value> gs = new ArrayList<>(grads.values());
        List<Value> clip;
        try (var s = b.scope("optimizer")) {
            clip = b.apply(new GradClip(t.gradClip()), gs.toArray(Value[]::new));
            Value norm = clip.get(0), coef = clip.get(1);
            for (Map.Entry<Value, Value> e : grads.entrySet()) {
                Value p = e.getKey(), g = e.getValue();
                double wd = p.shape().rank() >= 2 ? t.weightDecay() : 0;
                switch (t.optimizer()) {
                    case ADAMW, ADAM -> {
                        Value m = b.state("opt.m." + p.name(), p.shape(), Init.zeros());
                        Value v = b.state("opt.v." + p.name(), p.shape(), Init.zeros());
                        double decay = t.optimizer() == dev.mixlab.config.Optimizer.ADAM ? 0 : wd;
                        b.apply(new AdamW(t.beta1(), t.beta2(), t.eps(), decay), p, g, m, v, lr, step, coef);
                    }
                    case SGD -> {
                        Value buf = b.state("opt.momentum." + p.name(), p.shape(), Init.zeros());
                        b.apply(new Sgd(t.beta1(), wd), p, g, buf, lr, coef);
                    }
                }
            }
            return norm;
        }
    }
}
