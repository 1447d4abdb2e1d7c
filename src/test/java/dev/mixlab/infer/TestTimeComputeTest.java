package dev.mixlab.infer;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sampling, speculative decoding, beam search, best-of-n, majority vote and pass@k on small random models. */
class TestTimeComputeTest {
    static final String CFG = """
            {"model_dim": 32, "seq_len": 40, "vocab_size": 50, "init_std": %s,
             "blocks": [{"type": "plain", "heads": 4, "repeat": %d}], "training": {"batch_tokens": 40}}
            """;
    static final Backend CPU = new CpuBackend();
    static final int[] PROMPT = {3, 14, 15, 9, 2};

    static Config config(double std, int layers) {
        return ConfigLoader.parse(CFG.formatted(std, layers), "m.json");
    }

    static Map<String, float[]> weights(Config c, long seed) {
        return ParamInit.values(Programs.forward(c, 1), seed);
    }

    /** Greedy decoding by recomputing the whole prefix with the forward program each step. */
    static int[] greedyByRecompute(Config c, Map<String, float[]> w, int[] prompt, int n) {
        Program fwd = Programs.forward(c, 1);
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        try (Executable e = CPU.compile(fwd)) {
            for (Value p : fwd.params()) e.setFloats(p.name(), w.get(p.name()));
            for (int i = 0; i < n; i++) {
                int len = prompt.length + i;
                int[] ids = new int[c.seqLen()];
                System.arraycopy(seq, 0, ids, 0, len);
                e.setInts(Programs.IDS, ids);
                e.setInts(Programs.TARGETS, new int[ids.length]);
                e.run();
                seq[len] = Sampler.argmax(e.getFloats("logits"), (len - 1) * c.vocabSize(), c.vocabSize());
            }
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    @Test
    void greedyGenerationEqualsRecomputingThePrefix() {
        Config c = config(0.3, 2);
        Map<String, float[]> w = weights(c, 1);
        try (Generator g = new Generator(c, CPU, w, 1)) {
            int[] got = TextGeneration.generate(g, PROMPT, 20, SamplingOptions.greedy(), TextGeneration.Stop.NEVER, null).get(0).tokens();
            assertArrayEquals(greedyByRecompute(c, w, PROMPT, 20), got);
        }
    }

    @Test
    void samplingIsSeededAndTopKOneIsGreedy() {
        Config c = config(0.3, 1);
        Map<String, float[]> w = weights(c, 2);
        try (Generator g = new Generator(c, CPU, w, 3)) {
            SamplingOptions o = new SamplingOptions(1.0, 0, 0.9, 1.1, 42);
            List<TextGeneration.Sample> a = TextGeneration.generate(g, PROMPT, 15, o, TextGeneration.Stop.NEVER, null);
            List<TextGeneration.Sample> b = TextGeneration.generate(g, PROMPT, 15, o, TextGeneration.Stop.NEVER, null);
            for (int i = 0; i < 3; i++) assertArrayEquals(a.get(i).tokens(), b.get(i).tokens());
            assertFalse(Arrays.equals(a.get(0).tokens(), a.get(1).tokens()), "rows draw independently");
            int[] greedy = TextGeneration.generate(g, PROMPT, 15, SamplingOptions.greedy(), TextGeneration.Stop.NEVER, null).get(0).tokens();
            int[] topK1 = TextGeneration.generate(g, PROMPT, 15, new SamplingOptions(1.5, 1, 1, 1, 7), TextGeneration.Stop.NEVER, null).get(0).tokens();
            assertArrayEquals(greedy, topK1);
        }
    }

    @Test
    void generationPastTheContextKeepsGoing() {
        Config c = config(0.3, 1);
        try (Generator g = new Generator(c, CPU, weights(c, 3), 1)) {
            int[] got = TextGeneration.generate(g, PROMPT, 100, SamplingOptions.greedy(), TextGeneration.Stop.NEVER, null).get(0).tokens();
            assertEquals(100, got.length);
        }
    }

    @Test
    void speculativeGreedyMatchesTargetGreedyAndCountsOnlyDraftTokens() {
        Config tc = config(0.3, 2), dc = config(0.3, 1);
        Map<String, float[]> tw = weights(tc, 4), dw = weights(dc, 5);
        int[] want;
        try (Generator g = new Generator(tc, CPU, tw, 1)) {
            want = TextGeneration.generate(g, PROMPT, 24, SamplingOptions.greedy(), TextGeneration.Stop.NEVER, null).get(0).tokens();
        }
        try (Generator t = new Generator(tc, CPU, tw, 1); Generator d = new Generator(dc, CPU, dw, 1)) {
            TestTimeCompute.Speculative r = TestTimeCompute.speculative(t, d, PROMPT, 24, 4, SamplingOptions.greedy());
            assertArrayEquals(want, r.tokens());
            assertTrue(r.accepted() <= r.proposed());
            assertTrue(r.acceptanceRate() < 1, "an unrelated draft is sometimes rejected");
        }
        // the draft is the target itself: every proposal is accepted, and the bonus tokens are not counted
        try (Generator t = new Generator(tc, CPU, tw, 1); Generator d = new Generator(tc, CPU, tw, 1)) {
            TestTimeCompute.Speculative r = TestTimeCompute.speculative(t, d, PROMPT, 24, 4, new SamplingOptions(1, 0, 1, 1, 9));
            assertEquals(1.0, r.acceptanceRate(), 0.0);
            assertEquals(24, r.tokens().length);
            assertTrue(r.proposed() < 24, "bonus tokens come on top of the accepted ones: " + r.proposed());
        }
    }

    @Test
    void beamOfOneIsGreedyAndWiderBeamsScoreAtLeastAsWell() {
        Config c = config(0.5, 1);
        Map<String, float[]> w = weights(c, 6);
        TestTimeCompute.Beam one, four;
        try (Generator g = new Generator(c, CPU, w, 1)) {
            one = TestTimeCompute.beamSearch(g, PROMPT, 8).get(0);
            int[] greedy = TextGeneration.generate(g, PROMPT, 8, SamplingOptions.greedy(), TextGeneration.Stop.NEVER, null).get(0).tokens();
            assertArrayEquals(greedy, one.tokens());
        }
        try (Generator g = new Generator(c, CPU, w, 4)) {
            four = TestTimeCompute.beamSearch(g, PROMPT, 8).get(0);
        }
        assertTrue(four.logProb() >= one.logProb() - 1e-9, four.logProb() + " vs " + one.logProb());
    }

    @Test
    void bestOfNAndMajorityVote() {
        Config c = config(0.5, 1);
        try (Generator g = new Generator(c, CPU, weights(c, 7), 5)) {
            SamplingOptions o = new SamplingOptions(1, 0, 1, 1, 3);
            List<TextGeneration.Sample> all = TextGeneration.generate(g, PROMPT, 6, o, TextGeneration.Stop.NEVER, null);
            TextGeneration.Sample best = TestTimeCompute.bestOfN(g, PROMPT, 6, o, TextGeneration.Stop.NEVER, TestTimeCompute.Score.LOG_PROB);
            double max = all.stream().mapToDouble(TextGeneration.Sample::logProb).max().orElseThrow();
            assertEquals(max, best.logProb(), 1e-12);
            assertEquals(all.get(0).tokens()[0] % 2, (int) TestTimeCompute.majorityVote(List.of(all.get(0), all.get(0), all.get(1)),
                    s -> s.tokens()[0] % 2));
        }
    }

    @Test
    void passAtKMatchesTheCombinatorialFormula() {
        assertEquals(0.4, TestTimeCompute.passAtK(5, 2, 1), 1e-12);            // c/n for k = 1
        assertEquals(1 - 21.0 / 252, TestTimeCompute.passAtK(10, 3, 5), 1e-12); // 1 - C(7,5)/C(10,5)
        assertEquals(0.0, TestTimeCompute.passAtK(10, 0, 3), 0.0);
        assertEquals(1.0, TestTimeCompute.passAtK(4, 3, 2), 0.0);
    }
}
