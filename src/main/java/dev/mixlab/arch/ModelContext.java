package dev.mixlab.arch;

import dev.mixlab.config.Config;
import dev.mixlab.ir.Init;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Shape;
import dev.mixlab.ir.Value;

/**
 * What a block sees while it emits IR: the builder, the resolved config, whether this is a
 * training program (dropout on), the dropout seed input, and helpers that create parameters with
 * the model's naming and initialisation conventions.
 */
public final class ModelContext {
    private final ProgramBuilder b;
    private final Config config;
    private final boolean training;
    private final Value seed;
    private final int batch;
    private final Value pos;
    private int nextSalt = 1;
    private Value x0;
    private final java.util.List<RouterTap> routers = new java.util.ArrayList<>();

    ModelContext(ProgramBuilder b, Config config, boolean training, Value seed, int batch, Value pos) {
        this.b = b;
        this.config = config;
        this.training = training;
        this.seed = seed;
        this.batch = batch;
        this.pos = pos;
    }

    /**
     * True in an incremental-decoding program: tokens sit at positions {@link #position()} onwards,
     * and blocks keep what later tokens need (keys and values) in state tensors named
     * {@code cache.<part>.*}, sized for the full context.
     */
    public boolean decoding() {
        return pos != null;
    }

    /** The i32 scalar position of the first token of this call, in a decoding program; else null. */
    public Value position() {
        return pos;
    }

    public ProgramBuilder builder() {
        return b;
    }

    public Config config() {
        return config;
    }

    public boolean training() {
        return training;
    }

    /** Sequences per batch (B); the sequence length is {@code config().seqLen()}. */
    public int batch() {
        return batch;
    }

    public int seqLen() {
        return config.seqLen();
    }

    public int dim() {
        return config.modelDim();
    }

    /** Number of layers after {@code repeat} expansion. */
    public int layers() {
        return config.layers().size();
    }

    /** Dropout probability applied in training programs; 0 otherwise. */
    public double dropout() {
        return training ? config.dropout() : 0;
    }

    /** The per-step seed input that dropout masks hash; null when the program has no dropout. */
    public Value seed() {
        return seed;
    }

    /** A fresh salt so that every dropout site draws an independent mask. */
    public int nextSalt() {
        return nextSalt++;
    }

    /** Inverted dropout on x when training with dropout, else x. */
    public Value dropout(Value x) {
        double p = dropout();
        return p > 0 ? b.apply1(new dev.mixlab.ir.Dropout(p, nextSalt()), x, seed) : x;
    }

    /** A linear layer's weight {@code [out,in]}, normal(init_std·stdScale), tagged {@code matrix}. */
    public Value linearWeight(String name, int out, int in, double stdScale) {
        return b.param(name + ".weight", Shape.of(out, in), Init.normal(config.initStd() * stdScale), "matrix");
    }

    /** x·Wᵀ (+ bias when the config has biases). */
    public Value linear(String name, Value x, int out, double stdScale) {
        return linear(name, x, out, stdScale, config.bias());
    }

    /** x·Wᵀ, + a bias named {@code <name>.bias} when {@code bias}. */
    public Value linear(String name, Value x, int out, double stdScale, boolean bias) {
        Value y = b.linear(x, linearWeight(name, out, x.shape().last(), stdScale));
        if (bias) y = b.add(y, b.param(name + ".bias", Shape.of(out), Init.zeros(), "bias"));
        return y;
    }

    /**
     * A residual branch's output projection {@code <name>.weight [out,in]} (+ bias when the config
     * has biases): normal(init_std/√(2·layers)), or zeros with {@code zero_init_proj}.
     */
    public Value projection(String name, Value x, int out) {
        Init init = config.zeroInitProj() ? Init.zeros() : Init.normal(config.initStd() * residualScale());
        Value y = b.linear(x, b.param(name + ".weight", Shape.of(out, x.shape().last()), init, "matrix"));
        if (config.bias()) y = b.add(y, b.param(name + ".bias", Shape.of(out), Init.zeros(), "bias"));
        return y;
    }

    /** A learned per-channel vector {@code [n]} with a constant init, tagged {@code control} (scales, mixes, gains). */
    public Value control(String name, int n, double init) {
        return b.param(name, Shape.of(n), Init.constant(init), "control");
    }

    /** The embedding output (after {@code embed_norm} and dropout) that {@code resid_mix} mixes back in. */
    public Value embeddingOutput() {
        return x0;
    }

    void embeddingOutput(Value x0) {
        this.x0 = x0;
    }

    /** Records a mixture-of-experts layer's router outputs for the programs (loss, reports, bias updates). */
    public void addRouter(RouterTap tap) {
        routers.add(tap);
    }

    /** The router taps of the layers emitted so far, in layer order. */
    public java.util.List<RouterTap> routers() {
        return java.util.List.copyOf(routers);
    }

    /** The std multiplier of residual output projections: nanoGPT's 1/sqrt(2·layers). */
    public double residualScale() {
        return 1 / Math.sqrt(2.0 * layers());
    }
}
