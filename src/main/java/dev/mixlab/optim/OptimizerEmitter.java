package dev.mixlab.optim;

import dev.mixlab.config.Optimizer;
import dev.mixlab.config.ParamGroup;
import dev.mixlab.config.TrainSpec;
import dev.mixlab.ir.AdamW;
import dev.mixlab.ir.Descend;
import dev.mixlab.ir.FrobeniusNormalize;
import dev.mixlab.ir.GradClip;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.IrException;
import dev.mixlab.ir.NesterovMomentum;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Sgd;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.TensorType;
import dev.mixlab.ir.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Emits the optimizer into the training-step program: global-norm clipping over all gradients,
 * then one in-place update per parameter. Without {@code param_groups} every parameter gets the
 * section's optimizer and weight decay applies to parameters of rank ≥ 2 (matrices and
 * embeddings), not to norm gains or biases, as nanoGPT does. With groups, each parameter takes the
 * first group that accepts it; the group's lr is the scheduled {@code lr} input scaled by
 * {@code group.lr / training.lr} (so the schedule's multiplier applies to every group).
 *
 * <p>Muon (rank-2 only) is emitted as existing ops where it can be: {@link NesterovMomentum}
 * (momentum buffer in place, Nesterov look-ahead), {@link FrobeniusNormalize}, then Newton–Schulz
 * as matmuls, scales and adds ({@code A = X·Xᵀ; B = b·A + c·A·A; X = a·X + B·X}, on Xᵀ when rows >
 * cols, written without a transpose as {@code A = XᵀX; X = a·X + X·Bᵀ}), and the in-place
 * {@link Descend} with the aspect factor {@code sqrt(max(1, rows/cols))}. The momentum is the
 * scalar input {@value #MUON_MOMENTUM}, fed each step (momentum warmup).
 */
public final class OptimizerEmitter {
    private OptimizerEmitter() {}

    /** Names of the scalar inputs the trainer feeds each step. */
    public static final String LR = "lr", STEP = "step", MUON_MOMENTUM = "muon_momentum";

    /** The seed's quintic Newton–Schulz coefficients and normalisation epsilon. */
    public static final double NS_A = 3.4445, NS_B = -4.7750, NS_C = 2.0315, NS_EPS = 1e-7;

    /** Emits clipping and updates; returns the gradient-norm value (before clipping). */
    public static Value emit(ProgramBuilder b, TrainSpec t, Map<Value, Value> grads, Value lr, Value step) {
        List<Value> gs = new ArrayList<>(grads.values());
        try (var s = b.scope("optimizer")) {
            List<Value> clip = b.apply(new GradClip(t.gradClip()), gs.toArray(Value[]::new));
            Value norm = clip.get(0), coef = clip.get(1);
            if (t.paramGroups().isEmpty()) {
                for (Map.Entry<Value, Value> e : grads.entrySet()) {
                    Value p = e.getKey();
                    double wd = p.shape().rank() >= 2 ? t.weightDecay() : 0;
                    ParamGroup g = new ParamGroup("all", List.of("*"), null, null, t.optimizer(), t.lr(), t.beta1(), t.beta2(),
                            t.eps(), wd);
                    update(b, t, g, p, e.getValue(), lr, step, coef, null);
                }
                return norm;
            }
            Map<Value, ParamGroup> route = route(t.paramGroups(), grads.keySet());
            Map<ParamGroup, Value> groupLr = new LinkedHashMap<>();
            Value mu = route.values().stream().anyMatch(g -> g.optimizer() == Optimizer.MUON)
                    ? b.input(MUON_MOMENTUM, TensorType.f32(Shape.SCALAR)) : null;
            for (Map.Entry<Value, Value> e : grads.entrySet()) {
                ParamGroup g = route.get(e.getKey());
                Value glr = groupLr.computeIfAbsent(g, k -> k.lr() == t.lr() ? lr : b.scale(lr, k.lr() / t.lr()));
                update(b, t, g, e.getKey(), e.getValue(), glr, step, coef, mu);
            }
            return norm;
        }
    }

    /**
     * The group of each parameter: the first that accepts it.
     *
     * @throws IrException naming the parameters no group takes, or a Muon group given a non-matrix
     */
    public static Map<Value, ParamGroup> route(List<ParamGroup> groups, Iterable<Value> params) {
        Map<Value, ParamGroup> out = new LinkedHashMap<>();
        List<String> orphans = new ArrayList<>();
        for (Value p : params) {
            ParamGroup hit = null;
            for (ParamGroup g : groups) {
                if (g.accepts(p.name(), p.shape().rank(), p.tags())) {
                    hit = g;
                    break;
                }
            }
            if (hit == null) {
                orphans.add(p.name());
                continue;
            }
            if (hit.optimizer() == Optimizer.MUON && p.shape().rank() != 2) {
                throw new IrException("param group " + hit.name() + " (muon) takes " + p.name() + " of shape " + p.shape()
                        + "; Muon needs a rank-2 matrix: add \"rank\": \"2\" to the group");
            }
            out.put(p, hit);
        }
        if (!orphans.isEmpty()) {
            throw new IrException("no param group takes " + orphans + "; add a last group with \"match\": \"*\"");
        }
        return out;
    }

    private static void update(ProgramBuilder b, TrainSpec t, ParamGroup g, Value p, Value grad, Value lr, Value step,
                               Value coef, Value mu) {
        switch (g.optimizer()) {
            case ADAMW, ADAM -> {
                Value m = b.state("opt.m." + p.name(), p.shape(), Init.zeros());
                Value v = b.state("opt.v." + p.name(), p.shape(), Init.zeros());
                double decay = g.optimizer() == Optimizer.ADAM ? 0 : g.weightDecay();
                b.apply(new AdamW(g.beta1(), g.beta2(), g.eps(), decay), p, grad, m, v, lr, step, coef);
            }
            case SGD -> {
                Value buf = b.state("opt.momentum." + p.name(), p.shape(), Init.zeros());
                b.apply(new Sgd(g.beta1(), g.weightDecay()), p, grad, buf, lr, coef);
            }
            case MUON -> {
                if (mu == null) throw new IrException("muon update without the " + MUON_MOMENTUM + " input");
                Value buf = b.state("opt.momentum." + p.name(), p.shape(), Init.zeros());
                Value u = b.apply(new NesterovMomentum(), buf, grad, mu, coef).get(1);
                Value x = newtonSchulz(b, u, t.muonNsSteps());
                int rows = p.shape().dim(0), cols = p.shape().dim(1);
                b.apply(new Descend(Math.sqrt(Math.max(1.0, (double) rows / cols)), g.weightDecay()), p, x, lr);
            }
        }
    }

    /** The seed's {@code zeropower_newtonschulz5} on a rank-2 value, as IR ops. */
    public static Value newtonSchulz(ProgramBuilder b, Value g, int steps) {
        Value x = b.apply1(new FrobeniusNormalize(NS_EPS), g);
        boolean tall = g.shape().dim(0) > g.shape().dim(1);
        for (int i = 0; i < steps; i++) {
            Value a = tall ? b.matmul(x, x, true, false) : b.matmul(x, x, false, true);
            Value bm = b.add(b.scale(a, NS_B), b.scale(b.matmul(a, a, false, false), NS_C));
            Value bx = tall ? b.matmul(x, bm, false, true) : b.matmul(bm, x, false, false);
            x = b.add(b.scale(x, NS_A), bx);
        }
        return x;
    }
}
