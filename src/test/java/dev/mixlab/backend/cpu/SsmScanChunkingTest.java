package dev.mixlab.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.reference.ReferenceInterpreter;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.*;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The chunked scans (CPU kernels: intra-chunk dense form + state passing between chunks of
 * {@link SsmScanKernels#CHUNK}) equal the token-by-token recurrence (reference kernels, float64), at
 * lengths below, at, just past and well past a chunk boundary; and the chunked scan of a whole
 * sequence equals two chunked calls that carry the state across (the decode form).
 */
class SsmScanChunkingTest {
    static final double TOL = 2e-5;

    @ParameterizedTest(name = "T={0}")
    @ValueSource(ints = {1, 17, 63, 64, 65, 129, 200})
    void gatedDeltaChunkedEqualsRecurrent(int t) {
        int bs = 2, h = 2, dk = 8, dv = 6;
        Random r = new Random(t);
        float[] q = unitRows(r, bs * t * h, dk, 1 / Math.sqrt(dk)), k = unitRows(r, bs * t * h, dk, 1);
        float[] v = gauss(r, bs * t * h * dv), g = new float[bs * t * h], beta = new float[bs * t * h];
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) -(0.01 + 0.5 * r.nextDouble());
            beta[i] = (float) r.nextDouble();
        }
        Shape qs = Shape.of(bs, t, h, dk), vs = Shape.of(bs, t, h, dv), gs = Shape.of(bs, t, h);
        double[] want = reference(new GatedDeltaScan(false), new Shape[] {qs, qs, vs, gs, gs}, q, k, v, g, beta);
        float[] f = concat(q, k, v, g, beta, new float[bs * t * h * dv]);
        int[] off = offsets(q, k, v, g, beta);
        SsmScanKernels.gatedDelta(f, off[0], off[1], off[2], off[3], off[4], off[5], -1, 0, new SsmScanKernels.Gdn(bs, t, h, dk, dv));
        assertClose(want, f, off[5], "gated delta T=" + t);

        // the same sequence in two calls of the cached form, the state carried between them
        if (t < 2) return;
        int split = t / 3 + 1;
        float[] out = new float[want.length], state = new float[bs * h * dk * dv];
        for (int[] part : new int[][] {{0, split}, {split, t}}) {
            int n = part[1] - part[0];
            float[][] in = {slice(q, bs, t, part, h * dk), slice(k, bs, t, part, h * dk), slice(v, bs, t, part, h * dv),
                    slice(g, bs, t, part, h), slice(beta, bs, t, part, h)};
            float[] ff = concat(in[0], in[1], in[2], in[3], in[4], new float[bs * n * h * dv], state);
            int[] o = offsets(in[0], in[1], in[2], in[3], in[4], new float[bs * n * h * dv]);
            SsmScanKernels.gatedDelta(ff, o[0], o[1], o[2], o[3], o[4], o[5], o[6], part[0], new SsmScanKernels.Gdn(bs, n, h, dk, dv));
            System.arraycopy(ff, o[6], state, 0, state.length);
            unslice(ff, o[5], out, bs, t, part, h * dv);
        }
        assertClose(want, out, 0, "gated delta in two calls T=" + t);
    }

    @ParameterizedTest(name = "T={0}")
    @ValueSource(ints = {1, 17, 63, 64, 65, 129, 200})
    void ssdChunkedEqualsRecurrent(int t) {
        int bs = 2, h = 4, p = 5, gr = 2, n = 6;
        Random r = new Random(t);
        float[] x = gauss(r, bs * t * h * p), a = new float[bs * t * h], bm = gauss(r, bs * t * gr * n), c = gauss(r, bs * t * gr * n);
        for (int i = 0; i < a.length; i++) a[i] = (float) -(0.01 + 0.5 * r.nextDouble());
        Shape xs = Shape.of(bs, t, h, p), as = Shape.of(bs, t, h), bsh = Shape.of(bs, t, gr, n);
        double[] want = reference(new SsdScan(false), new Shape[] {xs, as, bsh, bsh}, x, a, bm, c);
        float[] f = concat(x, a, bm, c, new float[x.length]);
        int[] off = offsets(x, a, bm, c);
        SsmScanKernels.ssd(f, off[0], off[1], off[2], off[3], off[4], -1, 0, new SsmScanKernels.Ssd(bs, t, h, p, gr, n));
        assertClose(want, f, off[4], "ssd T=" + t);

        if (t < 2) return;
        int split = t / 3 + 1;
        float[] out = new float[want.length], state = new float[bs * h * p * n];
        for (int[] part : new int[][] {{0, split}, {split, t}}) {
            int len = part[1] - part[0];
            float[][] in = {slice(x, bs, t, part, h * p), slice(a, bs, t, part, h), slice(bm, bs, t, part, gr * n), slice(c, bs, t, part, gr * n)};
            float[] ff = concat(in[0], in[1], in[2], in[3], new float[bs * len * h * p], state);
            int[] o = offsets(in[0], in[1], in[2], in[3], new float[bs * len * h * p]);
            SsmScanKernels.ssd(ff, o[0], o[1], o[2], o[3], o[4], o[5], part[0], new SsmScanKernels.Ssd(bs, len, h, p, gr, n));
            System.arraycopy(ff, o[5], state, 0, state.length);
            unslice(ff, o[4], out, bs, t, part, h * p);
        }
        assertClose(want, out, 0, "ssd in two calls T=" + t);
    }

    /** The token-by-token float64 recurrence (reference backend) of a one-op program. */
    static double[] reference(Op op, Shape[] shapes, float[]... in) {
        ProgramBuilder b = new ProgramBuilder("scan");
        Value[] v = new Value[in.length];
        Map<String, Tensor> leaves = new HashMap<>();
        for (int i = 0; i < in.length; i++) {
            v[i] = b.param("in" + i, shapes[i], Init.zeros());
            double[] d = new double[in[i].length];
            for (int j = 0; j < d.length; j++) d[j] = in[i][j];
            leaves.put("in" + i, Tensor.of(shapes[i], d));
        }
        b.output("y", b.apply1(op, v));
        return ReferenceInterpreter.run(b.build(), leaves).get("y").f();
    }

    static float[] slice(float[] a, int bs, int t, int[] part, int row) {
        int n = part[1] - part[0];
        float[] out = new float[bs * n * row];
        for (int b = 0; b < bs; b++) System.arraycopy(a, (b * t + part[0]) * row, out, b * n * row, n * row);
        return out;
    }

    static void unslice(float[] f, int off, float[] out, int bs, int t, int[] part, int row) {
        int n = part[1] - part[0];
        for (int b = 0; b < bs; b++) System.arraycopy(f, off + b * n * row, out, (b * t + part[0]) * row, n * row);
    }

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] f = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, f, o, p.length);
            o += p.length;
        }
        return f;
    }

    /** Start offsets of each part and of what follows them. */
    static int[] offsets(float[]... parts) {
        int[] off = new int[parts.length + 1];
        for (int i = 0; i < parts.length; i++) off[i + 1] = off[i] + parts[i].length;
        return off;
    }

    static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static float[] unitRows(Random r, int rows, int d, double scale) {
        float[] a = gauss(r, rows * d);
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += a[i * d + j] * a[i * d + j];
            for (int j = 0; j < d; j++) a[i * d + j] = (float) (a[i * d + j] / Math.sqrt(s) * scale);
        }
        return a;
    }

    static void assertClose(double[] want, float[] got, int off, String what) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            double d = got[off + i] - want[i];
            num += d * d;
            den += want[i] * want[i];
        }
        double err = Math.sqrt(num / Math.max(den, 1e-30));
        assertTrue(err < TOL, what + ": chunked vs recurrent relative error " + err);
    }
}
