package dev.mixlab.backend.cpu;

import dev.mixlab.ir.Alibi;
import dev.mixlab.ir.AttnMask;
import dev.mixlab.ir.Shape;

/** KV-cache writes and attention of new queries against the cache (incremental decoding). */
final class CacheKernels {
    private CacheKernels() {}

    /** Copies x[B,S,KV,hd] into rows pos..pos+S-1 of cache[B,Tmax,KV,hd]. */
    static void write(float[] f, int cacheOff, int xOff, int pos, Shape cache, Shape x) {
        int tmax = cache.dim(1), s = x.dim(1), row = cache.dim(2) * cache.dim(3);
        if (pos < 0 || pos + s > tmax) {
            throw new IllegalArgumentException("cache rows " + pos + ".." + (pos + s) + " beyond its length " + tmax);
        }
        for (int b = 0; b < cache.dim(0); b++) System.arraycopy(f, xOff + b * s * row, f, cacheOff + (b * tmax + pos) * row, s * row);
    }

    /** Per (b, head, query): scores over cache rows 0..pos+s (the last {@code window} of them if > 0, those of its own chunk if {@code chunk} > 0), optional softcap c·tanh(s/c), optional ALiBi −m_h·(pos+s − j), softmax, weighted sum of V rows. */
    static void attention(float[] f, int qOff, int kOff, int vOff, int outOff, int pos, Shape q, int tmax, int h, int kvh,
                          float scale, int window, double softcap, boolean alibi, int chunk) {
        int bsz = q.dim(0), sn = q.dim(1), hd = q.dim(3), group = h / kvh;
        if (pos < 0 || pos + sn > tmax) throw new IllegalArgumentException("position " + (pos + sn - 1) + " beyond the cache of " + tmax);
        float[] slopes = new float[h];
        for (int i = 0; i < h && alibi; i++) slopes[i] = (float) Alibi.slope(i, h);
        Chunks.forRange(bsz * h * sn, 1, (from, to) -> {
            float[] p = Scratch.floats(0, tmax);
            for (int r = from; r < to; r++) {
                int i = r % sn, head = r / sn % h, b = r / sn / h, kh = head / group;
                int last = pos + i, lo = AttnMask.first(last, window, chunk), qo = qOff + ((b * sn + i) * h + head) * hd, oo = outOff + ((b * sn + i) * h + head) * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = lo; j <= last; j++) {
                    p[j] = Simd.dot(f, qo, f, kOff + ((b * tmax + j) * kvh + kh) * hd, hd) * scale;
                    if (softcap > 0) p[j] = (float) (softcap * Math.tanh(p[j] / softcap));
                    if (alibi) p[j] -= slopes[head] * (last - j);   // after the softcap; the query sits at last = pos + i
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = lo; j <= last; j++) sum += p[j] = (float) Math.exp(p[j] - max);
                float inv = (float) (1 / sum);
                java.util.Arrays.fill(f, oo, oo + hd, 0f);
                for (int j = lo; j <= last; j++) Simd.axpy(p[j] * inv, f, vOff + ((b * tmax + j) * kvh + kh) * hd, f, oo, hd);
            }
        });
    }
}
