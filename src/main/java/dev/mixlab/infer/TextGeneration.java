package dev.mixlab.infer;

import dev.mixlab.data.SplitMix64;
import java.util.ArrayList;
import java.util.List;

/**
 * Sampling loop over a {@link Generator}: the prompt is prefilled once (the same prompt in every
 * row), then one token per step for every row until {@code maxTokens} or the stop condition. When
 * the context is full, the cache is rebuilt from the most recent half of the sequence.
 */
public final class TextGeneration {
    private TextGeneration() {}

    /** Receives each new token of each row as it is produced. */
    @FunctionalInterface
    public interface Sink {
        void token(int row, int token);
    }

    /** Decides, from a row's generated tokens so far, whether the row is finished. */
    @FunctionalInterface
    public interface Stop {
        boolean done(List<Integer> generated);

        Stop NEVER = g -> false;
    }

    /** A generated continuation and the sum of its tokens' log-probabilities under the model (temperature 1). */
    public record Sample(int[] tokens, double logProb) {
        public double meanLogProb() {
            return tokens.length == 0 ? 0 : logProb / tokens.length;
        }
    }

    /** Generates one continuation per row of {@code g}. */
    public static List<Sample> generate(Generator g, int[] prompt, int maxTokens, SamplingOptions o, Stop stop, Sink sink) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt needs at least one token");
        int rows = g.batch(), v = g.vocab();
        List<List<Integer>> seq = new ArrayList<>(), gen = new ArrayList<>();
        double[] logp = new double[rows];
        boolean[] done = new boolean[rows];
        SplitMix64[] rng = new SplitMix64[rows];
        for (int r = 0; r < rows; r++) {
            seq.add(new ArrayList<>());
            gen.add(new ArrayList<>());
            for (int t : prompt) seq.get(r).add(t);
            rng[r] = new SplitMix64(o.seed() * 0x9E3779B97F4A7C15L + r);
        }
        g.reset();
        float[][] logits = prefill(g, seq, prompt.length);
        int lastOff = (Math.min(prompt.length, g.capacity()) - 1) * v;
        for (int step = 0; step < maxTokens; step++) {
            int[][] next = new int[rows][1];
            boolean all = true;
            for (int r = 0; r < rows; r++) {
                int off = step == 0 ? lastOff : 0;
                int tok = done[r] ? 0 : Sampler.sample(logits[r], off, v, o, seq.get(r), rng[r]);
                next[r][0] = tok;
                if (!done[r]) {
                    logp[r] += Sampler.logSoftmax(logits[r], off, v)[tok];
                    seq.get(r).add(tok);
                    gen.get(r).add(tok);
                    if (sink != null) sink.token(r, tok);
                    done[r] = stop.done(gen.get(r));
                }
                all &= done[r];
            }
            if (all || step == maxTokens - 1) break;
            if (g.position() + 1 > g.capacity()) {
                int keep = Math.max(1, g.capacity() / 2);
                g.reset();
                logits = prefill(g, seq, keep);
                // the next token's logits are at the last prefilled position
                float[][] last = new float[rows][];
                for (int r = 0; r < rows; r++) last[r] = java.util.Arrays.copyOfRange(logits[r], (keep - 1) * v, keep * v);
                logits = last;
            } else {
                logits = g.feed(next);
            }
        }
        List<Sample> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) out.add(new Sample(gen.get(r).stream().mapToInt(Integer::intValue).toArray(), logp[r]));
        return out;
    }

    /** Feeds the last {@code n} tokens of each row (at most the capacity) from position 0. */
    private static float[][] prefill(Generator g, List<List<Integer>> seq, int n) {
        n = Math.min(n, g.capacity());
        int[][] ids = new int[seq.size()][n];
        for (int r = 0; r < seq.size(); r++) {
            List<Integer> s = seq.get(r);
            for (int i = 0; i < n; i++) ids[r][i] = s.get(s.size() - n + i);
        }
        return g.feed(ids);
    }
}
