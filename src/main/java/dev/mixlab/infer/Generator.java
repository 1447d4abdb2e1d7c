package dev.mixlab.infer;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.config.Config;
import dev.mixlab.config.GatedDeltaNetBlock;
import dev.mixlab.config.Mamba2Block;
import dev.mixlab.config.MlstmBlock;
import dev.mixlab.config.RetnetBlock;
import dev.mixlab.config.RwkvBlock;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.train.Programs;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Incremental decoding of {@code batch} sequences with a KV cache sized to the config's context.
 * {@link #feed} runs the model on new tokens at the current position (a prompt in one call, then
 * one token per call) and returns their logits; {@link #rewind} moves the position back, after
 * which cache rows past it are overwritten by the next feed (speculative decoding relies on this).
 * Recurrent blocks keep a state instead of cache rows: feeding at position 0 starts it over.
 *
 * <p>One compiled decode program exists per number of tokens fed at once; they share the
 * parameters, and the cache state follows whichever program ran last.
 */
public final class Generator implements AutoCloseable {
    private final Config config;
    private final Backend backend;
    private final Map<String, float[]> weights;
    private final int batch;
    private final Map<Integer, Executable> programs = new HashMap<>();
    private Executable current;
    private int pos;

    /** @param weights parameter values by name (from a run's model.safetensors or fresh init) */
    public Generator(Config config, Backend backend, Map<String, float[]> weights, int batch) {
        this.config = config;
        this.backend = backend;
        this.weights = weights;
        this.batch = batch;
    }

    public Config config() {
        return config;
    }

    public int batch() {
        return batch;
    }

    public int vocab() {
        return config.vocabSize();
    }

    /** Tokens fed so far (the position of the next token). */
    public int position() {
        return pos;
    }

    /** Longest sequence the cache holds. */
    public int capacity() {
        return config.seqLen();
    }

    /**
     * Forgets the cached tokens after position {@code p}. Models with recurrent blocks ({@code retnet},
     * {@code mlstm}, {@code rwkv}, {@code gated_deltanet}, {@code mamba2}) keep one state that has absorbed every fed
     * token, so they can only start over ({@code p = 0}, the next feed resets the state) or stay where they are.
     */
    public void rewind(int p) {
        if (p < 0 || p > pos) throw new IllegalArgumentException("cannot rewind from " + pos + " to " + p);
        if (p != 0 && p != pos && recurrent()) {
            throw new IllegalStateException("cannot rewind from " + pos + " to " + p + ": the recurrent state of retnet/mlstm/rwkv/"
                    + "gated_deltanet/mamba2/mamba blocks cannot forget single tokens (rewind to 0 to start over)");
        }
        pos = p;
    }

    /** Whether some layer carries a recurrent state (a scan, conv or token-shift state) rather than a KV cache. */
    public boolean recurrent() {
        return config.layers().stream().anyMatch(b -> b instanceof RetnetBlock || b instanceof MlstmBlock || b instanceof RwkvBlock
                || b instanceof GatedDeltaNetBlock || b instanceof Mamba2Block || b instanceof dev.mixlab.config.Mamba1Block
                || b instanceof dev.mixlab.config.MoeBlock m && (m.mixer() instanceof GatedDeltaNetBlock || m.mixer() instanceof Mamba2Block
                        || m.mixer() instanceof dev.mixlab.config.Mamba1Block));
    }

    /** Starts over with an empty context. */
    public void reset() {
        pos = 0;
    }

    private Executable program(int tokens) {
        Executable e = programs.get(tokens);
        if (e == null) {
            Program p = Programs.decode(config, batch, tokens);
            e = backend.compile(p);
            for (Value v : p.params()) {
                float[] w = weights.get(v.name());
                if (w == null) throw new IllegalArgumentException("weights have no tensor '" + v.name() + "'");
                e.setFloats(v.name(), w);
            }
            programs.put(tokens, e);
        }
        return e;
    }

    /**
     * Feeds {@code tokens[b][s]} (the same count for every row) at the current position and
     * returns the logits {@code [b][s·V]} of every fed position.
     */
    public float[][] feed(int[][] tokens) {
        int s = tokens[0].length;
        if (tokens.length != batch) throw new IllegalArgumentException("expected " + batch + " rows, got " + tokens.length);
        if (pos + s > capacity()) throw new IllegalStateException("context full: " + (pos + s) + " > " + capacity());
        Executable e = program(s);
        if (current != null && current != e) {
            List<Value> state = current.program().state();
            for (Value v : state) e.setFloats(v.name(), current.getFloats(v.name()));
        }
        current = e;
        int[] ids = new int[batch * s];
        for (int b = 0; b < batch; b++) {
            if (tokens[b].length != s) throw new IllegalArgumentException("rows must have the same length");
            System.arraycopy(tokens[b], 0, ids, b * s, s);
        }
        e.setInts(Programs.IDS, ids);
        e.setInts(Programs.POS, new int[] {pos});
        e.run();
        pos += s;
        float[] all = e.getFloats("logits");
        int v = vocab();
        float[][] out = new float[batch][];
        for (int b = 0; b < batch; b++) out[b] = java.util.Arrays.copyOfRange(all, b * s * v, (b + 1) * s * v);
        return out;
    }

    /** Reorders the cached sequences: row b takes the cache of row {@code from[b]} (beam search). */
    public void reorder(int[] from) {
        if (current == null) return;
        for (Value v : current.program().state()) {
            float[] a = current.getFloats(v.name()), r = new float[a.length];
            int row = a.length / batch;
            for (int b = 0; b < batch; b++) System.arraycopy(a, from[b] * row, r, b * row, row);
            current.setFloats(v.name(), r);
        }
    }

    @Override
    public void close() {
        programs.values().forEach(Executable::close);
        programs.clear();
        current = null;
    }
}
