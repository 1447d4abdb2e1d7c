package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What a capacity limit does to causality. Experts keep the first tokens in batch order (sequence 0
 * position 0, 1, ..., then sequence 1), so whether a token is dropped depends on every token before
 * it in that order: its own prefix and the earlier sequences of the batch. Hence: changing tokens
 * after position t of the last sequence never changes any logit at or before (that sequence, t), nor
 * any logit of the earlier sequences; but changing an earlier sequence can change a later one's
 * routing. (Without a capacity every token routes alone: {@link CausalityTest} proves that case.)
 */
class MoeCapacityCausalityTest {
    static final String JSON = """
            {"model_dim": 16, "seq_len": 12, "vocab_size": 40, "positional_embedding": "rope", "norm_type": "rmsnorm",
             "blocks": [{"type": "moe", "heads": 2, "experts": 4, "top_k": 2, "capacity_factor": 0.5, "repeat": 2}],
             "training": {"batch_tokens": 24}}""";

    @Test
    void droppingDependsOnlyOnEarlierTokensInBatchOrder() {
        Config c = ConfigLoader.parse(JSON, "cap.json");
        int batch = 2, t = c.seqLen(), v = c.vocabSize();
        Program fwd = Programs.forward(c, batch);
        Map<String, float[]> w = ParamInit.values(fwd, 11);
        Random r = new Random(7);
        for (float[] a : w.values()) for (int i = 0; i < a.length; i++) a[i] += (float) (0.2 * r.nextGaussian());
        int[] ids = new int[batch * t];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(v);
        Program eval = Programs.eval(c, batch);
        try (Executable e = new CpuBackend().compile(fwd); Executable ev = new CpuBackend().compile(eval)) {
            for (Value p : fwd.params()) e.setFloats(p.name(), w.get(p.name()));
            for (Value p : eval.params()) ev.setFloats(p.name(), w.get(p.name()));
            ev.setInts(Programs.IDS, ids);
            ev.setInts(Programs.TARGETS, new int[ids.length]);
            ev.run();
            assertTrue(ev.scalar(Programs.moeDropped(0)) + ev.scalar(Programs.moeDropped(1)) > 0, "the capacity must drop tokens");
            float[] base = logits(e, ids);
            for (int cut : new int[] {0, 3, t - 2}) {
                // later tokens of the last sequence: everything at or before (1, cut) is bit-identical
                int[] changed = ids.clone();
                for (int i = cut + 1; i < t; i++) changed[t + i] = (ids[t + i] + 1 + r.nextInt(v - 1)) % v;
                float[] got = logits(e, changed);
                int upto = (t + cut + 1) * v;
                for (int i = 0; i < upto; i++) assertEquals(Float.floatToRawIntBits(base[i]), Float.floatToRawIntBits(got[i]), "logit " + i);
                assertNotEquals(java.util.Arrays.toString(base), java.util.Arrays.toString(got));
                // later tokens of the first sequence: its own prefix is unchanged (sequence 1 may change: batch order)
                changed = ids.clone();
                for (int i = cut + 1; i < t; i++) changed[i] = (ids[i] + 1 + r.nextInt(v - 1)) % v;
                got = logits(e, changed);
                for (int i = 0; i < (cut + 1) * v; i++) assertEquals(Float.floatToRawIntBits(base[i]), Float.floatToRawIntBits(got[i]));
            }
        }
    }

    static float[] logits(Executable e, int[] ids) {
        e.setInts(Programs.IDS, ids);
        e.setInts(Programs.TARGETS, new int[ids.length]);
        e.run();
        return e.getFloats("logits");
    }
}
