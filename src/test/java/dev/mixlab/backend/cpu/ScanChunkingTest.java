package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.Executable;
import dev.mixlab.ir.*;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Chunked == recurrent on the CPU itself, in float32: each scan op over a whole sequence (the
 * chunked form, 64-step chunks) against the same op's decoding form fed in pieces: one token per
 * call (a chunk of one step is the plain recurrence) and uneven pieces that move the chunk
 * boundaries. CpuKernelsTest checks the chunked form against the float64 recurrence as well. The
 * tolerance is float32 rounding (the mLSTM stabiliser m is stored in float between calls).
 */
class ScanChunkingTest {
    static final int B = 2, H = 2, DK = 8, DV = 12;

    record Spec(String name, Op whole, Op step, int stateSize, boolean gates, boolean wkv) {}

    static List<Spec> specs() {
        List<Spec> s = new ArrayList<>();
        List<Double> g = List.of(0.98, 0.7);
        s.add(new Spec("retention", new Retention(g), new Retention(g, true), DK * DV, false, false));
        s.add(new Spec("mlstm", new Mlstm(), new Mlstm(true), Mlstm.stateSize(DK, DV), true, false));
        s.add(new Spec("wkv", new Wkv(), new Wkv(true), DK * DV, false, true));
        return s;
    }

    @ParameterizedTest(name = "T={0}")
    @ValueSource(ints = {1, 63, 64, 65, 150, 200})
    void chunkedEqualsTokenByTokenAndUnevenPieces(int t) {
        Random r = new Random(t);
        for (Spec sp : specs()) {
            float[] q = rand(r, B * t * H * DK, 1), k = rand(r, B * t * H * DK, 1), v = rand(r, B * t * H * DV, 1);
            float[] a = rand(r, sp.wkv ? B * t * H * DK : B * t * H, sp.wkv ? 1 : 4), c = rand(r, sp.wkv ? H * DK : B * t * H, sp.wkv ? 0.5f : 4);
            float[] whole = run(sp, sp.whole, t, q, k, v, a, c, null, 0);
            for (int[] pieces : new int[][] {ones(t), uneven(t)}) {
                float[] state = new float[B * H * sp.stateSize];
                float[] got = new float[whole.length];
                int pos = 0;
                for (int len : pieces) {
                    float[] y = run(sp, sp.step, len, slice(q, pos, len, DK), slice(k, pos, len, DK), slice(v, pos, len, DV),
                            sp.wkv ? slice(a, pos, len, DK) : slice(a, pos, len, 1), sp.wkv ? c : slice(c, pos, len, 1), state, pos);
                    for (int b = 0; b < B; b++) System.arraycopy(y, b * len * H * DV, got, (b * t + pos) * H * DV, len * H * DV);
                    pos += len;
                }
                double num = 0, den = 0;
                for (int i = 0; i < whole.length; i++) {
                    num += (whole[i] - got[i]) * (double) (whole[i] - got[i]);
                    den += whole[i] * (double) whole[i];
                }
                double err = Math.sqrt(num / den);
                assertTrue(err < 1e-5, sp.name + " T=" + t + " in pieces of " + pieces[0] + "..: relative error " + err);
            }
        }
    }

    static int[] ones(int t) {
        int[] p = new int[t];
        java.util.Arrays.fill(p, 1);
        return p;
    }

    /** Pieces of 1, 70, 2, 70, ... up to t. */
    static int[] uneven(int t) {
        List<Integer> p = new ArrayList<>();
        int left = t;
        for (int i = 0; left > 0; i++) {
            int n = Math.min(left, i % 2 == 0 ? 1 + i : 70);
            p.add(n);
            left -= n;
        }
        return p.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Rows pos..pos+len-1 of a [B,T,H,w] tensor. */
    static float[] slice(float[] x, int pos, int len, int w) {
        int t = x.length / (B * H * w);
        float[] out = new float[B * len * H * w];
        for (int b = 0; b < B; b++) System.arraycopy(x, ((b * t) + pos) * H * w, out, b * len * H * w, len * H * w);
        return out;
    }

    static float[] rand(Random r, int n, float amp) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (amp * r.nextGaussian());
        return a;
    }

    /** Runs op on the CPU; with a state (decoding form) it is read and updated in place. */
    static float[] run(Spec sp, Op op, int t, float[] q, float[] k, float[] v, float[] a, float[] c, float[] state, int pos) {
        ProgramBuilder b = new ProgramBuilder(sp.name);
        List<Value> in = new ArrayList<>(List.of(b.param("q", Shape.of(B, t, H, DK), Init.zeros()), b.param("k", Shape.of(B, t, H, DK), Init.zeros()),
                b.param("v", Shape.of(B, t, H, DV), Init.zeros())));
        if (sp.gates) {
            in.add(b.param("a", Shape.of(B, t, H), Init.zeros()));
            in.add(b.param("c", Shape.of(B, t, H), Init.zeros()));
        } else if (sp.wkv) {
            in.add(b.param("a", Shape.of(B, t, H, DK), Init.zeros()));
            in.add(b.param("c", Shape.of(H, DK), Init.zeros()));
        }
        if (state != null) {
            in.add(sp.wkv || !sp.gates ? b.state("s", Shape.of(B, H, DK, DV), Init.zeros()) : b.state("s", Shape.of(B, H, sp.stateSize), Init.zeros()));
            in.add(b.input("pos", TensorType.i32(Shape.SCALAR)));
        }
        b.output("y", b.apply(op, in.toArray(Value[]::new)).get(0));
        Program p = b.build();
        try (Executable e = new CpuBackend().compile(p)) {
            e.setFloats("q", q);
            e.setFloats("k", k);
            e.setFloats("v", v);
            if (sp.gates || sp.wkv) {
                e.setFloats("a", a);
                e.setFloats("c", c);
            }
            if (state != null) {
                e.setFloats("s", state);
                e.setInts("pos", new int[] {pos});
            }
            e.run();
            if (state != null) System.arraycopy(e.getFloats("s"), 0, state, 0, state.length);
            return e.getFloats("y");
        }
    }
}
