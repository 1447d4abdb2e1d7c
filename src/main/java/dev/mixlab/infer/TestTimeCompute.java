package dev.mixlab.infer;

import dev.mixlab.data.SplitMix64;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Spending compute at inference time: best-of-n, majority vote, speculative decoding with a draft
 * model, beam search, and the unbiased pass@k estimator.
 */
public final class TestTimeCompute {
    private TestTimeCompute() {}

    /** How best-of-n ranks candidates. */
    public enum Score { LOG_PROB, MEAN_LOG_PROB }

    /** Samples {@code g.batch()} candidates and returns the best by {@code score}. */
    public static TextGeneration.Sample bestOfN(Generator g, int[] prompt, int maxTokens, SamplingOptions o,
                                                TextGeneration.Stop stop, Score score) {
        ToDoubleFunction<TextGeneration.Sample> f = score == Score.LOG_PROB ? TextGeneration.Sample::logProb
                : TextGeneration.Sample::meanLogProb;
        return bestOfN(g, prompt, maxTokens, o, stop, f);
    }

    /** Best-of-n with a caller's scorer (e.g. a verifier or a reward). Ties keep the earliest sample. */
    public static TextGeneration.Sample bestOfN(Generator g, int[] prompt, int maxTokens, SamplingOptions o,
                                                TextGeneration.Stop stop, ToDoubleFunction<TextGeneration.Sample> scorer) {
        List<TextGeneration.Sample> all = TextGeneration.generate(g, prompt, maxTokens, o, stop, null);
        TextGeneration.Sample best = all.get(0);
        for (TextGeneration.Sample s : all) if (scorer.applyAsDouble(s) > scorer.applyAsDouble(best)) best = s;
        return best;
    }

    /** The most common answer among the samples ({@code answer} extracts it); ties go to the first seen. */
    public static <A> A majorityVote(List<TextGeneration.Sample> samples, Function<TextGeneration.Sample, A> answer) {
        Map<A, Integer> counts = new LinkedHashMap<>();
        for (TextGeneration.Sample s : samples) counts.merge(answer.apply(s), 1, Integer::sum);
        A best = null;
        int n = -1;
        for (Map.Entry<A, Integer> e : counts.entrySet()) {
            if (e.getValue() > n) {
                best = e.getKey();
                n = e.getValue();
            }
        }
        return best;
    }

    /**
     * Unbiased pass@k (Chen et al. 2021): {@code 1 - C(n-c, k)/C(n, k)} for n samples of which c are
     * correct, computed as a product to stay stable for large n.
     */
    public static double passAtK(int n, int c, int k) {
        if (n < 1 || c < 0 || c > n || k < 1 || k > n) throw new IllegalArgumentException("need 0 <= c <= n and 1 <= k <= n");
        if (n - c < k) return 1.0;
        double prod = 1;
        for (int i = n - c + 1; i <= n; i++) prod *= 1 - (double) k / i;
        return 1 - prod;
    }

    /** Result of speculative decoding; {@code acceptanceRate} counts draft tokens only, never the bonus token. */
    public record Speculative(int[] tokens, int proposed, int accepted, int targetCalls) {
        public double acceptanceRate() {
            return proposed == 0 ? 0 : (double) accepted / proposed;
        }
    }

    /**
     * Speculative decoding (Leviathan et al. 2023; Chen et al. 2023): the draft proposes {@code gamma}
     * tokens, the target scores them in one call, each is accepted with probability
     * {@code min(1, p/q)}; at the first rejection a token is drawn from {@code norm(max(0, p - q))};
     * if all are accepted the target's next distribution gives one bonus token. Greedy options make
     * the output identical to the target's greedy decoding. Both generators have batch 1.
     */
    public static Speculative speculative(Generator target, Generator draft, int[] prompt, int maxTokens, int gamma,
                                          SamplingOptions o) {
        if (target.batch() != 1 || draft.batch() != 1) throw new IllegalArgumentException("speculative decoding uses batch 1");
        if (target.vocab() != draft.vocab()) throw new IllegalArgumentException("draft and target vocabularies differ");
        int v = target.vocab();
        SplitMix64 rng = new SplitMix64(o.seed());
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) seq.add(t);
        List<Integer> out = new ArrayList<>();
        target.reset();
        draft.reset();
        float[] tl = target.feed(new int[][] {prompt})[0];
        float[] dl = draft.feed(new int[][] {prompt})[0];
        double[] pNext = Sampler.distribution(tl, (prompt.length - 1) * v, v, o, seq);
        double[] qNext = Sampler.distribution(dl, (prompt.length - 1) * v, v, o, seq);
        int proposed = 0, accepted = 0, calls = 1;
        while (out.size() < maxTokens) {
            int g = Math.min(Math.min(gamma, maxTokens - out.size()),
                    Math.min(target.capacity() - target.position() - 1, draft.capacity() - target.position() - 1));
            if (g < 1) break;
            int base = target.position();
            int[] prop = new int[g];
            double[][] q = new double[g][];
            List<Integer> hist = new ArrayList<>(seq);
            double[] qd = qNext;
            for (int i = 0; i < g; i++) {
                q[i] = qd;
                prop[i] = Sampler.draw(qd, rng);
                hist.add(prop[i]);
                if (i + 1 < g) {
                    float[] l = draft.feed(new int[][] {{prop[i]}})[0];
                    qd = Sampler.distribution(l, 0, v, o, hist);
                }
            }
            // target scores the last accepted token's successor distribution (pNext) plus the g proposals
            float[] lt = target.feed(new int[][] {prop})[0];
            calls++;
            proposed += g;
            double[][] p = new double[g + 1][];
            p[0] = pNext;
            List<Integer> h2 = new ArrayList<>(seq);
            for (int i = 0; i < g; i++) {
                h2.add(prop[i]);
                p[i + 1] = Sampler.distribution(lt, i * v, v, o, h2);
            }
            int n = 0;
            int extra;
            while (true) {
                if (n == g) {
                    extra = Sampler.draw(p[g], rng);          // bonus token: not an acceptance
                    break;
                }
                int x = prop[n];
                double ratio = q[n][x] > 0 ? p[n][x] / q[n][x] : 0;
                if (rng.nextDouble() < Math.min(1, ratio)) {
                    n++;
                    continue;
                }
                double[] r = new double[v];
                double s = 0;
                for (int i = 0; i < v; i++) s += r[i] = Math.max(0, p[n][i] - q[n][i]);
                if (s <= 0) r = p[n]; else for (int i = 0; i < v; i++) r[i] /= s;
                extra = Sampler.draw(r, rng);
                break;
            }
            accepted += n;
            for (int i = 0; i < n; i++) {
                seq.add(prop[i]);
                out.add(prop[i]);
            }
            seq.add(extra);
            out.add(extra);
            // both caches keep the accepted prefix; the extra token is fed next round
            target.rewind(base + n);
            draft.rewind(Math.min(draft.position(), base + n));
            if (out.size() >= maxTokens || target.position() + 1 >= Math.min(target.capacity(), draft.capacity())) break;
            float[] ln = target.feed(new int[][] {{extra}})[0];
            calls++;
            pNext = Sampler.distribution(ln, 0, v, o, seq);
            while (draft.position() < target.position()) {
                int t = seq.get(draft.position());
                float[] l = draft.feed(new int[][] {{t}})[0];
                if (draft.position() == target.position()) qNext = Sampler.distribution(l, 0, v, o, seq);
            }
        }
        while (out.size() > maxTokens) out.remove(out.size() - 1);
        return new Speculative(out.stream().mapToInt(Integer::intValue).toArray(), proposed, accepted, calls);
    }

    /** A finished beam: tokens after the prompt and their total log-probability. */
    public record Beam(int[] tokens, double logProb) {
        public double normalized() {
            return tokens.length == 0 ? 0 : logProb / tokens.length;
        }
    }

    /**
     * Beam search with {@code g.batch()} beams for exactly {@code length} tokens; returns the beams
     * sorted by total log-probability, best first.
     */
    public static List<Beam> beamSearch(Generator g, int[] prompt, int length) {
        int w = g.batch(), v = g.vocab();
        int[][] rows = new int[w][];
        for (int b = 0; b < w; b++) rows[b] = prompt;
        g.reset();
        float[][] logits = g.feed(rows);
        int off = (prompt.length - 1) * v;
        List<int[]> beams = new ArrayList<>();
        double[] score = new double[w];
        for (int b = 0; b < w; b++) beams.add(new int[0]);
        for (int step = 0; step < length; step++) {
            record Cand(int beam, int token, double score) {}
            List<Cand> cands = new ArrayList<>();
            int live = step == 0 ? 1 : w;          // all beams start identical: expand one
            for (int b = 0; b < live; b++) {
                double[] lp = Sampler.logSoftmax(logits[b], off, v);
                for (int t = 0; t < v; t++) cands.add(new Cand(b, t, score[b] + lp[t]));
            }
            cands.sort(Comparator.comparingDouble((Cand c) -> -c.score()).thenComparingInt(Cand::beam).thenComparingInt(Cand::token));
            int[] from = new int[w];
            int[][] next = new int[w][1];
            List<int[]> nb = new ArrayList<>();
            double[] ns = new double[w];
            for (int b = 0; b < w; b++) {
                Cand c = cands.get(Math.min(b, cands.size() - 1));
                from[b] = c.beam();
                next[b][0] = c.token();
                int[] prev = beams.get(c.beam());
                int[] seq = java.util.Arrays.copyOf(prev, prev.length + 1);
                seq[prev.length] = c.token();
                nb.add(seq);
                ns[b] = c.score();
            }
            beams = nb;
            score = ns;
            if (step == length - 1 || g.position() + 1 > g.capacity()) break;
            g.reorder(from);
            logits = g.feed(next);
            off = 0;
        }
        List<Beam> out = new ArrayList<>();
        for (int b = 0; b < w; b++) out.add(new Beam(beams.get(b), score[b]));
        out.sort(Comparator.comparingDouble((Beam b) -> -b.logProb()));
        return out;
    }
}
