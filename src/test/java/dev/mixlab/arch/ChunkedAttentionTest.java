package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.reference.ReferenceBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Rope;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Chunked attention (Llama 4): with every layer chunked, a chunk is a model of its own: tokens of
 * other chunks never reach it, and a chunk holding the same tokens as the first gives the same
 * logits. RoPE positions restart at every chunk: the program's ropes have period = chunk, and a rope
 * with a period rotates row t exactly as a rope at position t mod period (inside one chunk the
 * restart cannot change attention scores, which depend on i − j only; it bounds the angles).
 */
class ChunkedAttentionTest {
    static final int CHUNK = 4;

    static Config config(String pos, int chunk, int window) {
        return ConfigLoader.parse(CausalityTest.BASE.formatted(pos, "rmsnorm",
                "{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2, \"attn_chunk_size\": " + chunk + ", \"window_size\": " + window
                        + "}, {\"type\": \"plain\", \"heads\": 2, \"attn_chunk_size\": " + chunk + ", \"ffn\": \"swiglu\"}", ""), "chunk.json");
    }

    /** Logits [B,T,V] of the forward program for the given ids (batch 1), on seeded random weights. */
    static double[] logits(Config c, Backend backend, int[] ids) {
        Program fwd = Programs.forward(c, 1);
        Map<String, float[]> w = ParamInit.values(fwd, 5);
        try (Executable e = backend.compile(fwd)) {
            for (Value p : fwd.params()) e.setFloats(p.name(), w.get(p.name()));
            e.setInts(Programs.TARGETS, new int[ids.length]);
            e.setInts(Programs.IDS, ids);
            e.run();
            return e.getDoubles("logits");
        }
    }

    static int[] randomIds(Config c, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[c.seqLen()];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(c.vocabSize());
        return ids;
    }

    @Test
    void positionsRestartAtEveryChunk() {
        Config c = config("rope", CHUNK, 0);
        int[] ids = randomIds(c, 1);
        for (int i = CHUNK; i < ids.length; i++) ids[i] = ids[i % CHUNK];   // every chunk repeats the first
        int v = c.vocabSize();
        for (Backend backend : new Backend[] {new CpuBackend(), new ReferenceBackend()}) {
            double[] y = logits(c, backend, ids);
            for (int k = 1; k < c.seqLen() / CHUNK; k++) {
                assertArrayEquals(Arrays.copyOfRange(y, 0, CHUNK * v), Arrays.copyOfRange(y, k * CHUNK * v, (k + 1) * CHUNK * v), 0.0,
                        backend + ": chunk " + k + " differs from chunk 0");
            }
        }
        // the ropes of the program restart every chunk
        long ropes = Programs.forward(c, 1).nodes().stream().map(Node::op).filter(o -> o instanceof Rope).count();
        assertEquals(4, ropes);
        assertTrue(Programs.forward(c, 1).nodes().stream().map(Node::op).filter(o -> o instanceof Rope)
                .allMatch(o -> ((Rope) o).period() == CHUNK));
    }

    @Test
    void ropeWithAPeriodRotatesRowTAsPositionTModPeriod() {
        int t = 11, period = 4, h = 2, hd = 6;
        Random r = new Random(4);
        float[] x = new float[t * h * hd];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int pos0 : new int[] {0, 3, 9}) {
            double[] periodic = rope(new Rope(100, hd, false, false, period), x, t, h, hd, pos0);
            for (int row = 0; row < t; row++) {
                int p = (pos0 + row) % period;
                double[] single = rope(new Rope(100, hd, false, false), Arrays.copyOfRange(x, row * h * hd, (row + 1) * h * hd), 1, h, hd, p);
                assertArrayEquals(single, Arrays.copyOfRange(periodic, row * h * hd, (row + 1) * h * hd), 0.0, "row " + row);
            }
        }
    }

    /** Rope of x[1,t,h,hd] at positions pos..pos+t-1 on the reference backend. */
    static double[] rope(Rope op, float[] x, int t, int h, int hd, int pos) {
        var b = new dev.mixlab.ir.ProgramBuilder("rope");
        Value in = b.input("x", dev.mixlab.ir.TensorType.f32(dev.mixlab.ir.Shape.of(1, t, h, hd)));
        Value p = b.input("pos", dev.mixlab.ir.TensorType.i32(dev.mixlab.ir.Shape.SCALAR));
        b.output("y", b.apply1(op, in, p));
        try (Executable e = new ReferenceBackend().compile(b.build())) {
            e.setFloats("x", x);
            e.setInts("pos", new int[] {pos});
            e.run();
            return e.getDoubles("y");
        }
    }

    @Test
    void otherChunksNeverReachAChunk() {
        Config c = config("rope", CHUNK, 3);
        int v = c.vocabSize();
        int[] ids = randomIds(c, 2), changed = ids.clone();
        for (int i = 0; i < CHUNK; i++) changed[i] = (ids[i] + 1) % v;   // change the whole first chunk
        double[] a = logits(c, new CpuBackend(), ids), b = logits(c, new CpuBackend(), changed);
        assertArrayEquals(Arrays.copyOfRange(a, CHUNK * v, a.length), Arrays.copyOfRange(b, CHUNK * v, b.length), 0.0);
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 0, CHUNK * v), Arrays.copyOfRange(b, 0, CHUNK * v)));
        // without chunks the change does reach later positions (the test can fail)
        Config full = config("rope", 0, 0);
        double[] fa = logits(full, new CpuBackend(), ids), fb = logits(full, new CpuBackend(), changed);
        assertFalse(Arrays.equals(Arrays.copyOfRange(fa, CHUNK * v, fa.length), Arrays.copyOfRange(fb, CHUNK * v, fb.length)));
    }

    @Test
    void aChunkAtLeastTheSequenceIsFullAttention() {
        Config c = config("rope", 12, 0), full = config("rope", 0, 0);
        int[] ids = randomIds(c, 3);
        for (Backend backend : new Backend[] {new CpuBackend(), new ReferenceBackend()}) {
            assertArrayEquals(logits(full, backend, ids), logits(c, backend, ids), 0.0, backend.toString());
            assertArrayEquals(logits(full, backend, ids), logits(config("rope", 100, 0), backend, ids), 0.0, backend.toString());
        }
    }
}
