package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.cuda.CudaBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.optim.OptimizerEmitter;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend trains what the CPU trains: the PyTorch goldens pass on CUDA, and whole training
 * steps (forward, backward, clipping, AdamW, dropout) give the CPU's losses. Skipped without a GPU.
 *
 * <p>Tolerances: the CUDA path is float32 like the CPU; sums run in other orders (cuBLAS, atomics),
 * so losses agree to 2e-5 relative and gradients to 1e-4; after several AdamW steps the trajectories
 * drift apart by rounding, so a 5-step run agrees to 1e-3.
 *
 * <p>{@link #blockCases()} is a catalogue: every built-in block type trains here (BlockCoverageTest
 * names a type without a case). The recurrent cases run 80-token sequences, so the chunked CUDA scans
 * cross chunk boundaries.
 */
public class CudaTrainingParityTest {
    static CudaBackend cuda;

    @BeforeAll
    static void gpu() {
        String why = CudaBackend.unavailable();
        if (why != null) System.err.println("CUDA training parity skipped: no CUDA GPU here (" + why + ")");
        Assumptions.assumeTrue(why == null, () -> "no CUDA GPU here (" + why + "); CUDA training parity skipped");
        cuda = new CudaBackend();   // past this point a failure (e.g. a kernel that does not compile) is a bug
    }

    @Test
    void pyTorchGoldensPassOnCuda() {
        for (String g : new String[] {"golden_nanogpt", "golden_variant"}) new GoldenTest().matchesPyTorch(g, cuda, 2e-5, 1e-4);
    }

    /**
     * The goldens at the default precision (bf16 products, bf16 tensor-core attention where the head
     * width allows): loss within 5e-3 and logits, gradients and weights within 3e-2 relative (Frobenius).
     * Why: bf16 keeps 8 significant bits (2⁻⁹ ≈ 2e-3 relative rounding per operand);
     * a few layers compound a handful of such roundings per value, a few 1e-3 in the loss and up to ~1e-2
     * in the smallest gradients' norms. A wrong kernel misses by order 1.
     */
    @Test
    void pyTorchGoldensPassOnCudaAtDefaultPrecision() {
        String fp32 = System.getProperty("mixlab.cuda.fp32");
        System.clearProperty("mixlab.cuda.fp32");
        try {
            for (String g : new String[] {"golden_nanogpt", "golden_variant"}) new GoldenTest().matchesPyTorch(g, cuda, 5e-3, 3e-2);
        } finally {
            if (fp32 != null) System.setProperty("mixlab.cuda.fp32", fp32);
        }
    }

    /**
     * At the default precision the products read bf16 copies of their operands (weights copied at the
     * start of each run; activations and gradients written as bf16 by their producers or converted after
     * them). One SGD step (no momentum, decay or clipping, so each weight moves by lr·g) with dropout
     * moves the weights as the CPU's float32 step does, and again after every weight is replaced, so the
     * copies follow the weights. Tolerance: the weight changes agree to 3e-2 relative (Frobenius) over
     * all parameters and 1e-1 for each that moves at least 1e-3 of the whole change, the loss to 1e-2. Why: bf16 keeps 8 significant bits (relative
     * rounding 2⁻⁹ ≈ 2e-3 per operand); a gradient passes through a few products per layer, each adding
     * a few 1e-3, and the smallest tensors (norm weights) sum fewer terms, so their relative error is the
     * largest. A stale, misplaced or unwritten copy misses by order 1.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("bf16Configs")
    void bf16ProductsMatchTheCpu(String name, String model) {
        bf16StepsMatchTheCpu(name, model, 32, 256, 3e-2, 1e-1);
    }

    /**
     * Every block type of the catalogue at the default precision: the bf16 copies, the bf16-only
     * activations (which get no float32 bytes) and the folded gradient sums hold for MLA, experts and
     * every recurrent mixer too. Tolerances: 1e-1 over all weight changes, 3e-1 per tensor. Why looser
     * than above: with experts, bf16 rounding of the router scores flips the top-k choice of near-tied
     * tokens, which moves whole rows of expert gradients (measured 5.6e-2 overall); a router's gradient
     * is a difference of expert outputs, so cancellation raises its relative error (measured 1.0e-1).
     * A wrong kernel misses by order 1.
     */
    @ParameterizedTest(name = "T={1} {0}")
    @MethodSource("blockCases")
    void bf16TrainingStepsMatchTheCpu(String blocks, int seqLen) {
        bf16StepsMatchTheCpu("blocks", "\"positional_embedding\": \"rope\", \"norm_type\": \"rmsnorm\", \"blocks\": [" + blocks + "]",
                seqLen, seqLen * 8, 1e-1, 3e-1);
    }

    private static void bf16StepsMatchTheCpu(String name, String model, int seqLen, int batchTokens, double overall, double perTensor) {
        String fp32 = System.getProperty("mixlab.cuda.fp32");
        System.clearProperty("mixlab.cuda.fp32");
        try {
            Config c = ConfigLoader.parse("""
                    {"model_dim": 64, "seq_len": %d, "dropout": 0.1, %s,
                     "training": {"batch_tokens": %d, "optimizer": "sgd", "beta1": 0, "weight_decay": 0, "grad_clip": 0}}
                    """.formatted(seqLen, model, batchTokens), name + ".json");
            Program p = Programs.trainStep(c, Programs.batch(c));
            Random r = new Random(7);
            int n = Programs.batch(c) * c.seqLen();
            float lr = 0.5f;
            try (Executable a = new CpuBackend().compile(p); Executable b = cuda.compile(p)) {
                for (int s = 0; s < 2; s++) {
                    Map<String, float[]> init = ParamInit.values(p, 5 + s);
                    int[] x = new int[n], y = new int[n];
                    for (int i = 0; i < n; i++) {
                        x[i] = r.nextInt(256);
                        y[i] = r.nextInt(256);
                    }
                    for (Executable e : new Executable[] {a, b}) {
                        init.forEach(e::setFloats);
                        e.setFloats(Programs.GRAD_SEED, new float[] {1});
                        e.setFloats(OptimizerEmitter.LR, new float[] {lr});
                        e.setFloats(OptimizerEmitter.STEP, new float[] {s + 1});
                        e.setInts(Programs.IDS, x);
                        e.setInts(Programs.TARGETS, y);
                        e.setInts(Programs.SEED, new int[] {100 + s});
                        e.run();
                    }
                    double la = a.scalar(Programs.LOSS), lb = b.scalar(Programs.LOSS);
                    assertEquals(la, lb, 1e-2 * Math.abs(la), name + ": loss at step " + (s + 1));
                    double num = 0, den = 0;
                    Map<String, double[]> per = new java.util.LinkedHashMap<>();
                    for (Value v : p.params()) {
                        float[] w0 = init.get(v.name()), wa = a.getFloats(v.name()), wb = b.getFloats(v.name());
                        double pn = 0, pd = 0;
                        for (int i = 0; i < wa.length; i++) {
                            double da = wa[i] - w0[i], db = wb[i] - w0[i];
                            pn += (da - db) * (da - db);
                            pd += da * da;
                        }
                        if (pd == 0) {   // a weight the CPU step leaves unchanged (no gradient yet) must stay so
                            assertEquals(0, pn, name + ": " + v.name() + " changed on CUDA only, at step " + (s + 1));
                            continue;
                        }
                        per.put(v.name(), new double[] {pn, pd});
                        num += pn;
                        den += pd;
                    }
                    assertTrue(Math.sqrt(num / den) < overall, name + ": weight changes at step " + (s + 1) + ", relative error " + Math.sqrt(num / den));
                    // each tensor that moves at least 1e-3 of the whole change (smaller ones are all rounding noise)
                    for (var e : per.entrySet()) {
                        double pn = e.getValue()[0], pd = e.getValue()[1];
                        if (pd < 1e-6 * den) continue;
                        assertTrue(Math.sqrt(pn / pd) < perTensor, name + ": change of " + e.getKey() + " at step " + (s + 1)
                                + ", relative error " + Math.sqrt(pn / pd) + " (|change| " + Math.sqrt(pd) + " of " + Math.sqrt(den) + ")");
                    }
                }
            }
        } finally {
            if (fp32 != null) System.setProperty("mixlab.cuda.fp32", fp32);
        }
    }

    /** A nanoGPT-shaped model (layer norm, GELU, tied embeddings), a Llama-shaped one (RMSNorm, SwiGLU, RoPE, grouped kv heads), GPT-2-shaped ones with and without biases. */
    static Stream<Arguments> bf16Configs() {
        return Stream.of(
                Arguments.of("nanogpt", "\"positional_embedding\": \"learned_absolute\", \"norm_type\": \"layernorm\", \"bias\": false,"
                        + " \"tie_embeddings\": true, \"blocks\": [{\"type\": \"plain\", \"heads\": 2, \"activation\": \"gelu\", \"repeat\": 2}]"),
                Arguments.of("llama", "\"positional_embedding\": \"rope\", \"norm_type\": \"rmsnorm\", \"tie_embeddings\": false,"
                        + " \"blocks\": [{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"ffn\": \"swiglu\", \"repeat\": 2}]"),
                // biases and the tanh GELU: bias epilogues (the GELU reads a float32 pre-activation, so it runs alone) ...
                Arguments.of("gpt2", GPT2),
                // ... and without biases the tanh GELU in the epilogue, writing its bf16 pre-activation as aux
                Arguments.of("gelu_tanh", GPT2.replace("\"bias\": true", "\"bias\": false")));
    }

    /** The config switch {@code training.precision: fp32} (Backend.float32) alone gives the float32 tolerances. */
    @Test
    void float32SwitchGivesFloat32Numerics() {
        String fp32 = System.getProperty("mixlab.cuda.fp32");
        System.clearProperty("mixlab.cuda.fp32");
        try {
            for (String g : new String[] {"golden_nanogpt", "golden_variant"}) new GoldenTest().matchesPyTorch(g, cuda.float32(true), 2e-5, 1e-4);
        } finally {
            if (fp32 != null) System.setProperty("mixlab.cuda.fp32", fp32);
        }
    }

    /** (blocks JSON, seq_len) for every built-in block type and the attention options. */
    public static Stream<Arguments> blockCases() {
        return Stream.of(
                Arguments.of("{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2}, {\"type\": \"plain\", \"heads\": 4, \"ffn\": \"swiglu\"}", 32),
                // multi-head latent attention: padded values (v 16 < q/k 24), then padded queries/keys with a query latent
                Arguments.of("{\"type\": \"mla\", \"heads\": 4}, {\"type\": \"mla\", \"heads\": 2, \"q_lora_rank\": 24,"
                        + " \"qk_nope_head_dim\": 8, \"qk_rope_head_dim\": 8, \"v_head_dim\": 32, \"ffn\": \"swiglu\"}", 32),
                // FFN-only blocks, differential and chunked attention, a window with softcap and ALiBi
                Arguments.of("{\"type\": \"mlp\"}, {\"type\": \"swiglu\"}, {\"type\": \"plain\", \"heads\": 2, \"differential\": true,"
                        + " \"attn_chunk_size\": 8}, {\"type\": \"plain\", \"heads\": 4, \"window_size\": 5, \"attn_softcap\": 2,"
                        + " \"alibi\": true}", 32),
                // experts: softmax top-2 with a shared expert; sigmoid top-1 with the balancing bias behind latent attention
                Arguments.of("{\"type\": \"moe\", \"heads\": 4, \"kv_heads\": 2, \"experts\": 4, \"top_k\": 2, \"shared_experts\": 1,"
                        + " \"expert_mult\": 1.5}, {\"type\": \"moe\", \"mixer\": \"mla\", \"heads\": 2, \"experts\": 3, \"top_k\": 1,"
                        + " \"router\": \"sigmoid\", \"expert_ffn\": \"mlp\", \"bias_balancing\": true}", 32),
                // gated attention and a gated shared expert (Qwen3-Next)
                Arguments.of("{\"type\": \"plain\", \"heads\": 4, \"output_gate\": true}, {\"type\": \"moe\", \"heads\": 2,"
                        + " \"kv_heads\": 1, \"output_gate\": true, \"experts\": 3, \"shared_experts\": 1, \"shared_expert_gate\": true}", 32),
                // every recurrent mixer, two of them in a group
                Arguments.of("{\"type\": \"retnet\", \"heads\": 2}, {\"type\": \"group\", \"repeat\": 2, \"blocks\":"
                        + " [{\"type\": \"mamba2\", \"d_state\": 8, \"head_dim\": 16}, {\"type\": \"rwkv\", \"head_size\": 16,"
                        + " \"mix_lora_dim\": 2, \"decay_lora_dim\": 3}]}, {\"type\": \"mlstm\", \"heads\": 2},"
                        + " {\"type\": \"gated_deltanet\", \"heads\": 2}", 80),
                // experts behind recurrent mixers (Qwen3-Next, Jamba), Mamba-2 with two groups
                Arguments.of("{\"type\": \"moe\", \"mixer\": \"gated_deltanet\", \"heads\": 2, \"value_heads\": 4, \"experts\": 3,"
                        + " \"top_k\": 2}, {\"type\": \"moe\", \"mixer\": \"mamba2\", \"d_state\": 8, \"head_dim\": 16, \"ngroups\": 2,"
                        + " \"experts\": 3}", 80),
                // Mamba (Mamba-1) on the wkv scan, with Jamba's norms behind experts
                Arguments.of("{\"type\": \"mamba\", \"d_state\": 8}, {\"type\": \"moe\", \"mixer\": \"mamba\", \"d_state\": 4,"
                        + " \"dt_norm\": true, \"experts\": 3}", 80));
    }

    @ParameterizedTest(name = "T={1} {0}")
    @MethodSource("blockCases")
    void trainingStepsMatchTheCpu(String blocks, int seqLen) {
        stepsMatchTheCpu("\"positional_embedding\": \"rope\", \"norm_type\": \"rmsnorm\", \"blocks\": [" + blocks + "]", seqLen);
    }

    /**
     * A GPT-2-shaped model (biases everywhere, the tanh GELU): at float32 the products run with cuBLASLt's
     * BIAS and GELU_AUX_BIAS epilogues, which must train as the CPU does.
     */
    @Test
    void epilogueStepsMatchTheCpu() {
        stepsMatchTheCpu(GPT2, 32);
    }

    static final String GPT2 = "\"positional_embedding\": \"learned_absolute\", \"norm_type\": \"layernorm\", \"bias\": true,"
            + " \"tie_embeddings\": true, \"blocks\": [{\"type\": \"plain\", \"heads\": 2, \"activation\": \"gelu_tanh\", \"repeat\": 2}]";

    private static void stepsMatchTheCpu(String model, int seqLen) {
        Config c = ConfigLoader.parse("""
                {"model_dim": 64, "seq_len": %d, "dropout": 0.1, %s,
                 "training": {"batch_tokens": %d, "lr": 3e-3, "weight_decay": 0.1, "grad_clip": 1.0}}
                """.formatted(seqLen, model, seqLen * (seqLen <= 32 ? 8 : 4)), "parity.json");
        Program p = Programs.trainStep(c, Programs.batch(c));
        Map<String, float[]> init = ParamInit.values(p, 5);
        Random r = new Random(3);
        int n = Programs.batch(c) * c.seqLen();
        try (Executable a = new CpuBackend().compile(p); Executable b = cuda.compile(p)) {
            for (Executable e : new Executable[] {a, b}) {
                init.forEach(e::setFloats);
                e.setFloats(Programs.GRAD_SEED, new float[] {1});
                e.setFloats(OptimizerEmitter.LR, new float[] {3e-3f});
            }
            for (int s = 0; s < 5; s++) {
                int[] x = new int[n], y = new int[n];
                for (int i = 0; i < n; i++) {
                    x[i] = r.nextInt(256);
                    y[i] = r.nextInt(256);
                }
                for (Executable e : new Executable[] {a, b}) {
                    e.setInts(Programs.IDS, x);
                    e.setInts(Programs.TARGETS, y);
                    e.setFloats(OptimizerEmitter.STEP, new float[] {s + 1});
                    e.setInts(Programs.SEED, new int[] {1000 + s});
                    e.run();
                }
                double la = a.scalar(Programs.LOSS), lb = b.scalar(Programs.LOSS);
                assertEquals(la, lb, (s == 0 ? 2e-5 : 1e-3) * Math.abs(la), "loss at step " + (s + 1));
            }
            for (Value v : p.params()) {
                // a key bias shifts every score of a query alike, so softmax cancels it: its gradient is zero
                // but for rounding, which AdamW scales up to full steps; its weights are noise on both sides
                if (v.name().endsWith(".attn.k.bias")) continue;
                float[] wa = a.getFloats(v.name()), wb = b.getFloats(v.name());
                double num = 0, den = 0;
                for (int i = 0; i < wa.length; i++) {
                    num += (wa[i] - wb[i]) * (wa[i] - wb[i]);
                    den += wa[i] * wa[i];
                }
                assertTrue(Math.sqrt(num / den) < 1e-3, "weights of " + v.name() + " after 5 steps");
            }
        }
    }
}
