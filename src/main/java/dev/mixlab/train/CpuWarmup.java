package dev.mixlab.train;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gets the CPU kernels compiled by the JIT before the first real step. The Vector API is slow
 * until C2 compiles a kernel (vectors are boxed in the interpreter and C1), so the first step of a
 * fresh JVM used to take seconds. While the run loads its data and builds its programs, a daemon
 * thread trains two tiny models (covering the common ops) over and over; {@link #stop} ends it
 * before the first real step, which then meets compiled kernels.
 */
public final class CpuWarmup {
    private static volatile boolean stop;
    private static Thread thread;

    private CpuWarmup() {}

    private static final String[] MODELS = {
        """
        {"model_dim": 32, "seq_len": 16, "dropout": 0.1, "blocks": [{"type": "plain", "heads": 2}, {"type": "mlp", "activation": "relu2"}],
         "training": {"batch_tokens": 64}}
        """,
        """
        {"model_dim": 32, "seq_len": 16, "positional_embedding": "rope", "norm_type": "rmsnorm", "tie_embeddings": false,
         "blocks": [{"type": "plain", "heads": 4, "kv_heads": 2, "ffn": "swiglu"}], "training": {"batch_tokens": 64}}
        """};

    /** Starts warming in the background (once per JVM; a no-op when disabled with -Dmixlab.warmup=false). */
    public static synchronized void start() {
        if (thread != null || !Boolean.parseBoolean(System.getProperty("mixlab.warmup", "true"))) return;
        thread = new Thread(CpuWarmup::run, "mixlab-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    /** Ends the warm-up and waits (briefly) for its current step to finish. */
    public static void stop() {
        stop = true;
        Thread t = thread;
        if (t != null) {
            try {
                t.join(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void run() {
        try {
            List<Executable> execs = new ArrayList<>();
            for (String json : MODELS) {
                Config c = ConfigLoader.parse(json, "warmup.json");
                Program p = Programs.trainStep(c, Programs.batch(c));
                Executable e = new CpuBackend().compile(p);
                for (Map.Entry<String, float[]> w : ParamInit.values(p, 1).entrySet()) e.setFloats(w.getKey(), w.getValue());
                e.setFloats(Programs.GRAD_SEED, new float[] {1});
                e.setFloats(dev.mixlab.optim.OptimizerEmitter.LR, new float[] {1e-4f});
                e.setFloats(dev.mixlab.optim.OptimizerEmitter.STEP, new float[] {1});
                int n = Programs.batch(c) * c.seqLen();
                int[] ids = new int[n];
                for (int i = 0; i < n; i++) ids[i] = (i * 31) % 256;
                e.setInts(Programs.IDS, ids);
                e.setInts(Programs.TARGETS, ids);
                if (p.inputs().stream().anyMatch(v -> v.name().equals(Programs.SEED))) e.setInts(Programs.SEED, new int[] {1});
                execs.add(e);
            }
            long end = System.nanoTime() + 20_000_000_000L;   // never longer than 20 s
            while (!stop && System.nanoTime() < end) for (Executable e : execs) if (!stop) e.run();
        } catch (RuntimeException | Error e) {
            // warming is an optimisation: any failure here just leaves the JIT to warm up as usual
        }
    }
}
