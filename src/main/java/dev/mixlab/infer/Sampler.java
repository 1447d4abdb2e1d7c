package dev.mixlab.infer;

import dev.mixlab.data.SplitMix64;
import java.util.Arrays;
import java.util.Collection;

/** Turns logits into a token: penalty, temperature, top-k, top-p, then a draw (or argmax). */
public final class Sampler {
    private Sampler() {}

    /** Log-softmax of {@code logits[off..off+v)} into a new array. */
    public static double[] logSoftmax(float[] logits, int off, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += Math.exp(logits[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[v];
        for (int i = 0; i < v; i++) out[i] = logits[off + i] - lse;
        return out;
    }

    public static int argmax(float[] logits, int off, int v) {
        int best = 0;
        for (int i = 1; i < v; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    /**
     * The distribution the options define over the vocabulary (probabilities summing to 1), from
     * logits at {@code off}; {@code history} holds the tokens the repetition penalty applies to.
     */
    public static double[] distribution(float[] logits, int off, int v, SamplingOptions o, Collection<Integer> history) {
        double[] z = new double[v];
        for (int i = 0; i < v; i++) z[i] = logits[off + i];
        if (o.repetitionPenalty() != 1 && history != null) {
            for (int t : history) z[t] = z[t] > 0 ? z[t] / o.repetitionPenalty() : z[t] * o.repetitionPenalty();
        }
        double[] p = new double[v];
        if (o.isGreedy()) {
            int best = 0;
            for (int i = 1; i < v; i++) if (z[i] > z[best]) best = i;
            p[best] = 1;
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double x : z) max = Math.max(max, x);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += p[i] = Math.exp((z[i] - max) / o.temperature());
        for (int i = 0; i < v; i++) p[i] /= sum;
        if ((o.topK() > 0 && o.topK() < v) || o.topP() < 1) {
            Integer[] order = new Integer[v];
            for (int i = 0; i < v; i++) order[i] = i;
            final double[] pp = p;
            Arrays.sort(order, (a, b) -> pp[b] != pp[a] ? Double.compare(pp[b], pp[a]) : Integer.compare(a, b));
            int keep = o.topK() > 0 ? Math.min(o.topK(), v) : v;
            double cum = 0;
            for (int r = 0; r < keep; r++) {
                cum += p[order[r]];
                if (cum >= o.topP()) {
                    keep = r + 1;
                    break;
                }
            }
            double[] q = new double[v];
            double s = 0;
            for (int r = 0; r < keep; r++) s += q[order[r]] = p[order[r]];
            for (int i = 0; i < v; i++) q[i] /= s;
            p = q;
        }
        return p;
    }

    /** Draws an index from probabilities {@code p}. */
    public static int draw(double[] p, SplitMix64 rng) {
        double u = rng.nextDouble(), c = 0;
        int last = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] <= 0) continue;
            c += p[i];
            last = i;
            if (u < c) return i;
        }
        return last;
    }

    public static int sample(float[] logits, int off, int v, SamplingOptions o, Collection<Integer> history, SplitMix64 rng) {
        return draw(distribution(logits, off, v, o, history), rng);
    }
}
