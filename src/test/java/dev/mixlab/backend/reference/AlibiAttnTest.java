package dev.mixlab.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.Alibi;
import dev.mixlab.ir.Attention;
import dev.mixlab.ir.CachedAttention;
import dev.mixlab.ir.Shape;
import org.junit.jupiter.api.Test;

/**
 * The reference ALiBi against a hand computation: with q = 0 every raw score is 0, so (also through a
 * softcap, which maps 0 to 0) query i weights key j by softmax over j' of −m_h·(i − j'); with v_j = j
 * the output is the expected key position under those weights.
 */
class AlibiAttnTest {
    static double expectedPosition(double m, int lo, int i) {
        double num = 0, den = 0;
        for (int j = lo; j <= i; j++) {
            double w = Math.exp(-m * (i - j));
            num += w * j;
            den += w;
        }
        return num / den;
    }

    @Test
    void biasFollowsTheHeadSlopesAfterTheSoftcap() {
        int t = 7, h = 3, hd = 2;
        double[] v = new double[t * hd];
        for (int j = 0; j < t; j++) for (int c = 0; c < hd; c++) v[j * hd + c] = j;
        Tensor q = Tensor.of(Shape.of(1, t, h, hd), new double[t * h * hd]);
        for (int window : new int[] {0, 3}) {
            double[] out = Attn.forward(new Attention(h, 1, 0.5, 0, 0, window, 0.8, true), q, new double[t * hd], v, 0);
            for (int i = 0; i < t; i++) {
                for (int head = 0; head < h; head++) {
                    double want = expectedPosition(Alibi.slope(head, h), Attn.first(i, window), i);
                    assertEquals(want, out[(i * h + head) * hd], 1e-12, "i " + i + " head " + head + " window " + window);
                }
            }
            double[] plain = Attn.forward(new Attention(h, 1, 0.5, 0, 0, window, 0.8, false), q, new double[t * hd], v, 0);
            assertEquals(expectedPosition(0, Attn.first(6, window), 6), plain[(6 * h) * hd], 1e-12);
        }
    }

    @Test
    void biasIsAddedAfterTheSoftcap() {
        // one head (slope 1/256), query 1 against keys 0 and 1 with raw scores 3 and −3, cap 0.3
        double c = 0.3, m = Alibi.slope(0, 1);
        Tensor q = Tensor.of(Shape.of(1, 2, 1, 1), new double[] {0, 1});
        double[] out = Attn.forward(new Attention(1, 1, 1, 0, 0, 0, c, true), q, new double[] {3, -3}, new double[] {0, 1}, 0);
        double l0 = c * Math.tanh(3 / c) - m, l1 = c * Math.tanh(-3 / c);
        assertEquals(1 / (1 + Math.exp(l0 - l1)), out[1], 1e-12);
        double wrong0 = c * Math.tanh((3 - m) / c);   // bias before the cap: a visibly different weight
        assertTrue(Math.abs(1 / (1 + Math.exp(wrong0 - l1)) - out[1]) > 1e-4);
    }

    @Test
    void cachedQueriesUseTheirAbsolutePosition() {
        int tmax = 9, s = 2, h = 12, hd = 1, pos = 5;
        double[] v = new double[tmax];
        for (int j = 0; j < tmax; j++) v[j] = j;
        Tensor q = Tensor.of(Shape.of(1, s, h, hd), new double[s * h]);
        Tensor k = Tensor.of(Shape.of(1, tmax, 1, hd), new double[tmax]);
        double[] out = Attn.cached(new CachedAttention(h, 1, 1, 0, 0, true), q, k, v, pos);
        for (int i = 0; i < s; i++) {
            for (int head = 0; head < h; head++) {
                assertEquals(expectedPosition(Alibi.slope(head, h), 0, pos + i), out[i * h + head], 1e-12);
            }
        }
    }
}
