package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.optim.OptimizerEmitter;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * DeepSeek-V3's auxiliary-loss-free balancing in the training step: after every step the routing
 * bias moves by rate·sign(mean load − load) of that step's loads, and on a skewed batch that pulls
 * the expert loads toward balance.
 */
class BiasBalancingTest {
    static final String BIAS = "blocks.0.moe.router.balance_bias";

    @Test
    void biasMovesTowardBalanceOnASkewedBatch() {
        Config c = ConfigLoader.parse("""
                {"model_dim": 16, "seq_len": 16, "vocab_size": 8, "positional_embedding": "rope", "norm_type": "rmsnorm",
                 "blocks": [{"type": "moe", "heads": 2, "experts": 4, "top_k": 1, "router": "sigmoid",
                             "bias_balancing": true, "bias_update_rate": 0.01}],
                 "training": {"batch_tokens": 32, "lr": 1e-6}}""", "bias.json");
        int batch = Programs.batch(c), n = batch * c.seqLen();
        Program stepP = Programs.trainStep(c, batch), evalP = Programs.eval(c, batch);
        int[] ids = new int[n];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(8);
        try (Executable step = new CpuBackend().compile(stepP); Executable eval = new CpuBackend().compile(evalP)) {
            ParamInit.apply(step, 5);
            // a router with a clear favourite, so the skew is real
            float[] wr = step.getFloats("blocks.0.moe.router.weight");
            for (int i = 0; i < wr.length; i++) wr[i] *= 20;
            step.setFloats("blocks.0.moe.router.weight", wr);
            step.setInts(Programs.IDS, ids);
            step.setInts(Programs.TARGETS, ids);
            eval.setInts(Programs.IDS, ids);
            eval.setInts(Programs.TARGETS, ids);
            float[] load0 = load(step, eval);
            float mean = (float) n / 4;
            assertTrue(spread(load0) >= n / 3f, "the batch is not skewed: " + Arrays.toString(load0));
            assertArrayEquals(new float[4], step.getFloats(BIAS));
            run(step, 1);
            float[] bias = step.getFloats(BIAS);
            for (int e = 0; e < 4; e++) {
                // the step's load is the eval load of the pre-step weights (same batch, no dropout)
                assertEquals((float) (0.01 * Math.signum(mean - load0[e])), bias[e], 1e-7f, "bias of expert " + e);
            }
            // the sign rule keeps nudging, so loads hover around balance: judge the mean spread of the last 20 steps
            double late = 0;
            float[] load = load0;
            for (int s = 2; s <= 60; s++) {
                run(step, s);
                if (s > 40) late += spread(load = load(step, eval)) / 20.0;
            }
            assertTrue(late < spread(load0) / 2.0, "loads did not balance: " + Arrays.toString(load0) + ", spread "
                    + spread(load0) + " -> " + late
                    + " (last: " + Arrays.toString(load) + ", bias " + Arrays.toString(step.getFloats(BIAS)) + ")");
        }
    }

    /** With gradient accumulation the update uses the whole step's load: the micro-batches' loads summed. */
    @Test
    void microBatchLoadsAreSummedBeforeTheUpdate() {
        Config c = ConfigLoader.parse("""
                {"model_dim": 16, "seq_len": 8, "vocab_size": 8,
                 "blocks": [{"type": "moe", "heads": 2, "experts": 4, "top_k": 2, "bias_balancing": true}],
                 "training": {"batch_tokens": 32, "lr": 1e-6}}""", "accum.json");
        int batch = Programs.batch(c);
        Program stepP = Programs.trainStep(c, batch, 2), evalP = Programs.eval(c, batch);
        int[] ids = new int[batch * c.seqLen()];
        java.util.Random r = new java.util.Random(9);
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(8);
        int half = ids.length / 2;
        try (Executable step = new CpuBackend().compile(stepP); Executable eval = new CpuBackend().compile(evalP)) {
            ParamInit.apply(step, 2);
            step.setInts(Programs.micro(Programs.IDS, 0, 2), Arrays.copyOfRange(ids, 0, half));
            step.setInts(Programs.micro(Programs.IDS, 1, 2), Arrays.copyOfRange(ids, half, ids.length));
            step.setInts(Programs.micro(Programs.TARGETS, 0, 2), new int[half]);
            step.setInts(Programs.micro(Programs.TARGETS, 1, 2), new int[half]);
            step.setFloats(Programs.GRAD_SEED, new float[] {1f});
            eval.setInts(Programs.IDS, ids);
            eval.setInts(Programs.TARGETS, new int[ids.length]);
            float[] load = load(step, eval);   // the whole batch in one pass: no capacity, so the micro-batch sum
            run(step, 1);
            float[] bias = step.getFloats("blocks.0.moe.router.balance_bias");
            float mean = ids.length * 2 / 4f;
            for (int e = 0; e < 4; e++) assertEquals((float) (0.001 * Math.signum(mean - load[e])), bias[e], 1e-9f, "expert " + e);
            assertTrue(step.scalar(Programs.AUX_LOSS) > 0);
        }
    }

    static void run(Executable step, int s) {
        step.setFloats(OptimizerEmitter.LR, new float[] {1e-6f});
        step.setFloats(OptimizerEmitter.STEP, new float[] {s});
        step.run();
    }

    /** The eval program's expert load of layer 0 with the step's current parameters (the bias included). */
    static float[] load(Executable step, Executable eval) {
        for (Value p : eval.program().params()) eval.setFloats(p.name(), step.getFloats(p.name()));
        eval.run();
        return eval.getFloats(Programs.moeLoad(0));
    }

    static float spread(float[] load) {
        float mx = Float.NEGATIVE_INFINITY, mn = Float.POSITIVE_INFINITY;
        for (float l : load) { mx = Math.max(mx, l); mn = Math.min(mn, l); }
        return mx - mn;
    }
}
