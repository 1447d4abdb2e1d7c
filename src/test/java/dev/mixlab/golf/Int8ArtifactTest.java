package dev.mixlab.golf;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.golf.Int8Artifact.Entry;
import dev.mixlab.golf.Int8Artifact.Kind;
import dev.mixlab.golf.Int8Artifact.Lerp;
import dev.mixlab.golf.Int8Artifact.Quantized;
import dev.mixlab.golf.Int8Artifact.Rows;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.io.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The int8 quantizer's properties, the artifact layout and zlib round trip, and the numpy golden. */
class Int8ArtifactTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/int8_quant.safetensors");

    @Test
    void roundsHalfToEvenAndClampsAt127() {
        assertEquals(0, Int8Artifact.code(0.5));
        assertEquals(2, Int8Artifact.code(1.5));
        assertEquals(2, Int8Artifact.code(2.5));
        assertEquals(-2, Int8Artifact.code(-2.5));
        assertEquals(-4, Int8Artifact.code(-3.5));
        assertEquals(3, Int8Artifact.code(2.5000001));
        assertEquals(126, Int8Artifact.code(126.5));
        assertEquals(127, Int8Artifact.code(127.4));
        assertEquals(127, Int8Artifact.code(1e9));
        assertEquals(-127, Int8Artifact.code(-128));
        assertEquals(-127, Int8Artifact.code(Double.NEGATIVE_INFINITY));
    }

    @Test
    void quantileIsNumpyLinear() {
        float[] s = {1f, 2f, 3f, 4f, 10f};
        assertEquals(2.0, Int8Artifact.quantile(s, 0.25, Lerp.FLOAT64), 0.0); // index 1
        assertEquals(3.0, Int8Artifact.quantile(s, 0.5, Lerp.FLOAT32), 0.0);
        assertEquals(7.0, Int8Artifact.quantile(s, 0.875, Lerp.FLOAT64), 1e-12); // index 3.5
        assertEquals(10.0, Int8Artifact.quantile(s, 1.0, Lerp.FLOAT32), 0.0);
        assertEquals(5.0f, (float) Int8Artifact.quantile(new float[] {5f}, Int8Artifact.CLIP_Q, Lerp.FLOAT32));
        // the clip: virtual index (n-1)*q between the two largest, computed from the larger one
        float[] row = new float[512];
        for (int i = 0; i < row.length; i++) row[i] = i;
        double vi = 511 * Int8Artifact.CLIP_Q, g = vi - 510;
        assertEquals((double) (511f - 1f * (float) (1 - g)), Int8Artifact.quantile(row, Int8Artifact.CLIP_Q, Lerp.FLOAT32), 0.0);
        assertEquals(511.0 - (1 - g), Int8Artifact.quantile(row, Int8Artifact.CLIP_Q, Lerp.FLOAT64), 0.0);
        assertTrue(Double.isNaN(Int8Artifact.quantile(new float[] {1f, Float.NaN}, 0.5, Lerp.FLOAT32)));
    }

    @Test
    void perRowClipsAtThePercentileWithFp16Scales() {
        // a row 0..999 with one outlier: the clip sits between the two largest |w|
        int cols = 1000;
        float[] w = new float[2 * cols];
        for (int j = 0; j < cols; j++) {
            w[j] = j * 0.001f;
            w[cols + j] = -j * 1e-6f; // tiny: the scale floor 1/127 applies
        }
        w[cols - 1] = 50f;
        Rows r = Int8Artifact.quantizeRows(w, 2, cols, Lerp.FLOAT32);
        assertTrue(r.clip()[0] > 0.998f && r.clip()[0] < 50f, "clip " + r.clip()[0]);
        assertEquals(r.clip()[0] / 127f, r.scale32()[0]);
        assertEquals(127, r.codes()[cols - 1]); // the outlier is clipped to +127
        assertEquals((float) (1.0 / 127.0), r.scale32()[1]);
        assertEquals(0, r.codes()[cols + 5]);
        for (int k = 0; k < 2; k++) {
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(r.scale32()[k])), r.scale16()[k]);
        }
        for (byte c : r.codes()) assertTrue(c >= -127 && c <= 127);
        // codes use the float32 scale; dequantizing uses the float16 one
        Quantized q = new Quantized(java.util.List.of(new Entry("m", Kind.PER_ROW, new int[] {2, cols}, r.scale16(), r.codes(), new float[0])));
        float[] back = Int8Artifact.dequantize(q).get("m");
        assertEquals(r.codes()[3] * r.scale16()[0], back[3]);
    }

    @Test
    void fp16RoundsToNearestEven() {
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even 1.0
        assertEquals(1.0f, Float.float16ToFloat(Float.floatToFloat16(1f + 0x1p-11f)));
        assertEquals(1f + 0x1p-9f, Float.float16ToFloat(Float.floatToFloat16(1f + 0x1p-10f + 0x1p-11f)));
        Quantized q = Int8Artifact.quantize(Map.of("small", new float[] {1f + 0x1p-11f, 0.1f}), Map.of("small", new int[] {2}));
        assertEquals(Kind.FP16, q.entries().get(0).kind());
        assertArrayEquals(new float[] {1f, Float.float16ToFloat(Float.floatToFloat16(0.1f))}, q.entries().get(0).values());
    }

    static Map<String, float[]> stateDict(Map<String, int[]> shapes) {
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, float[]> v = new LinkedHashMap<>();
        shapes.put("tok_emb.weight", new int[] {300, 256});          // 76,800 > 65,536: per-row
        shapes.put("blocks.0.attn.q.weight", new int[] {256, 256});  // 65,536: kept, float16
        shapes.put("blocks.0.attn_scale", new int[] {256});          // control: kept, float32
        shapes.put("blocks.0.attn.q_gain", new int[] {4});           // control: kept, float32
        shapes.put("big.vector", new int[] {70_000});                // large 1-D: per-tensor
        shapes.put("blocks.0.mlp_norm.weight", new int[] {256});     // kept, float16
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            int n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * 0.05);
            v.put(e.getKey(), x);
        }
        return v;
    }

    @Test
    void stateDictKindsSizesAndZlibRoundTrip() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> v = stateDict(shapes);
        Quantized q = Int8Artifact.quantize(v, shapes);
        Map<String, Kind> kinds = new LinkedHashMap<>();
        for (Entry e : q.entries()) kinds.put(e.name(), e.kind());
        assertEquals(Kind.PER_ROW, kinds.get("tok_emb.weight"));
        assertEquals(Kind.FP16, kinds.get("blocks.0.attn.q.weight"));
        assertEquals(Kind.FP32, kinds.get("blocks.0.attn_scale"));
        assertEquals(Kind.FP32, kinds.get("blocks.0.attn.q_gain"));
        assertEquals(Kind.PER_TENSOR, kinds.get("big.vector"));
        assertEquals(Kind.FP16, kinds.get("blocks.0.mlp_norm.weight"));
        long payload = (300 * 256 + 2 * 300) + 2 * 65_536 + 4 * 256 + 4 * 4 + (70_000 + 4) + 2 * 256;
        assertEquals(payload, q.payloadBytes());
        assertEquals(4L * (300 * 256 + 65_536 + 256 + 4 + 70_000 + 256), q.baselineBytes());

        byte[] raw = Int8Artifact.serialize(q);
        byte[] blob = Int8Artifact.compress(raw);
        assertEquals(0x78, blob[0] & 0xFF); // a zlib (RFC 1950) header
        assertArrayEquals(raw, Int8Artifact.decompress(blob));
        Quantized back = Int8Artifact.deserialize(Int8Artifact.decompress(blob));
        Map<String, float[]> a = Int8Artifact.dequantize(q), b = Int8Artifact.dequantize(back);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k);
        assertArrayEquals(v.get("blocks.0.attn_scale"), b.get("blocks.0.attn_scale")); // float32 exactly
        // every value within half a step of its original (or clipped)
        float[] w = v.get("tok_emb.weight"), d = b.get("tok_emb.weight");
        for (int i = 0; i < w.length; i++) assertEquals(w[i], d[i], 0.0051f * 0.6f + 1e-3f, "tok_emb " + i);

        assertThrows(IllegalArgumentException.class, () -> Int8Artifact.deserialize(Arrays.copyOf(raw, raw.length - 3)));
        assertThrows(IllegalArgumentException.class, () -> Int8Artifact.decompress(Arrays.copyOf(blob, blob.length / 2)));
        byte[] bad = raw.clone();
        bad[0] = 'X';
        assertThrows(IllegalArgumentException.class, () -> Int8Artifact.deserialize(bad));
    }

    @Test
    void perTensorScaleOfZerosIsOne() {
        float[] s = new float[1];
        byte[] c = Int8Artifact.quantizeTensor(new float[100], Lerp.FLOAT32, s);
        assertEquals(1f, s[0]);
        for (byte x : c) assertEquals(0, x);
    }

    @Test
    void matchesNumpyGolden() {
        if (!Files.exists(GOLDEN)) {
            System.err.println("Int8ArtifactTest: " + GOLDEN + " absent; run reference/sp_bpb_and_int8.py --int8-only to check the quantizer against numpy");
            Assumptions.abort(GOLDEN + " absent");
        }
        try (SafetensorsFile f = Safetensors.read(GOLDEN)) {
            Map<String, String> meta = f.metadata();
            for (String name : new String[] {"normal", "heavy", "mixed", "grid", "vector", "vector_zero"}) {
                Tensor wt = f.tensor(name + ".w");
                float[] w = wt.floats();
                long[] shape = wt.shape();
                Lerp lerp = "float64".equals(meta.get(name + ".clip_dtype")) ? Lerp.FLOAT64 : Lerp.FLOAT32;
                byte[] codes = new byte[w.length];
                f.tensor(name + ".codes").data().asByteBuffer().get(codes);
                double[] clip = f.tensor(name + ".clip").doubles();
                float[] s32 = f.tensor(name + ".scale32").floats();
                float[] dq = f.tensor(name + ".dq").floats();
                if (shape.length == 2) {
                    int rows = (int) shape[0], cols = (int) shape[1];
                    Rows r = Int8Artifact.quantizeRows(w, rows, cols, lerp);
                    float[] s16 = f.tensor(name + ".scale16").floats();
                    for (int i = 0; i < rows; i++) {
                        assertEquals(clip[i], (double) r.clip()[i], 0.0, name + " clip row " + i);
                        assertEquals(s32[i], r.scale32()[i], 0f, name + " scale32 row " + i);
                        assertEquals(s16[i], r.scale16()[i], 0f, name + " scale16 row " + i);
                    }
                    assertArrayEquals(codes, r.codes(), name + " codes");
                    Quantized q = Int8Artifact.quantize(Map.of(name, w), Map.of(name, new int[] {rows, cols}), lerp);
                    if (w.length > Int8Artifact.KEEP_FLOAT_MAX_NUMEL) assertArrayEquals(dq, Int8Artifact.dequantize(q).get(name));
                    float[] mine = new float[w.length];
                    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) mine[i * cols + j] = r.codes()[i * cols + j] * r.scale16()[i];
                    assertArrayEquals(dq, mine, name + " dequantized");
                } else {
                    float[] s = new float[1];
                    byte[] c = Int8Artifact.quantizeTensor(w, lerp, s);
                    assertEquals(s32[0], s[0], 0f, name + " scale");
                    assertArrayEquals(codes, c, name + " codes");
                    float[] mine = new float[w.length];
                    for (int i = 0; i < w.length; i++) mine[i] = c[i] * s[0];
                    assertArrayEquals(dq, mine, name + " dequantized");
                }
            }
        }
    }
}
