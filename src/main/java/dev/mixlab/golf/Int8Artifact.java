package dev.mixlab.golf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The parameter-golf int8 artifact, quantized exactly as the reference trainer's
 * {@code quantize_state_dict_int8} does, then written in mixlab's own binary layout and compressed
 * with zlib level 9 (the size of that compressed file is the model's size in the challenge).
 *
 * <p>Per float tensor (mixlab's parameters are all float32):
 * <ul>
 *   <li>at most {@link #KEEP_FLOAT_MAX_NUMEL} elements: kept, as float32 when its name contains one
 *       of {@link #CONTROL_PATTERNS} (the seed's {@code CONTROL_TENSOR_NAME_PATTERNS}), else as
 *       float16 (round to nearest even);</li>
 *   <li>larger and 2-D: per-row int8. Row clip {@code c} = numpy's linear-interpolation quantile of
 *       {@code |w|} at {@link #CLIP_Q}; scale {@code s = max(c / 127, 1/127)} in float32; code
 *       {@code clamp(rint(clip(w, -c, c) / s), -127, 127)} (round half to even); the scale is stored
 *       as float16 (the codes use the float32 scale, as in the seed);</li>
 *   <li>larger, other ranks: per-tensor int8 with one float32 scale {@code c / 127} (1 when c = 0).</li>
 * </ul>
 * Dequantized: {@code code * scale} in float32.
 *
 * <p>Layout (little-endian): magic {@code "MXI8"}, u32 version 1, u32 tensor count; per tensor u16
 * name length, the UTF-8 name, u8 kind (0 per-row int8, 1 per-tensor int8, 2 float16, 3 float32),
 * u8 rank, u32 per dimension, then the payload: kind 0 {@code rows} float16 scales then the int8
 * codes row-major; kind 1 one float32 scale then the codes; kind 2 float16 values; kind 3 float32
 * values. The file is that byte string compressed by zlib ({@code java.util.zip.Deflater} level 9,
 * RFC 1950 stream, as Python's {@code zlib.compress(raw, level=9)}).
 */
public final class Int8Artifact {
    private Int8Artifact() {}

    /** Tensors of at most this many elements are kept as floats (the seed's {@code INT8_KEEP_FLOAT_MAX_NUMEL}). */
    public static final int KEEP_FLOAT_MAX_NUMEL = 65_536;
    /** The seed's {@code INT8_CLIP_PERCENTILE}. */
    public static final double CLIP_PERCENTILE = 99.99984;
    /** The quantile of |w| a row is clipped at, {@code 99.99984 / 100.0}. */
    public static final double CLIP_Q = CLIP_PERCENTILE / 100.0;
    /** Name fragments of tensors kept in float32 (the seed's default {@code CONTROL_TENSOR_NAME_PATTERNS}). */
    public static final List<String> CONTROL_PATTERNS = List.of("attn_scale", "attn_scales", "mlp_scale", "mlp_scales",
            "resid_mix", "resid_mixes", "q_gain", "skip_weight", "skip_weights");

    static final byte[] MAGIC = "MXI8".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;

    /**
     * In which precision numpy interpolates the clip quantile. Recent numpy (a Python-float {@code q}
     * is a weak scalar, {@code _quantile}'s {@code weak_q}) interpolates in float32, the input's type;
     * numpy 1.x (for 2-D input) and 2.0 interpolate in float64, and the per-row clip and division
     * then run in float64 too. The two differ only in the last bits of a clip value.
     */
    public enum Lerp { FLOAT32, FLOAT64 }

    /** How a tensor is stored. */
    public enum Kind { PER_ROW, PER_TENSOR, FP16, FP32 }

    /**
     * One stored tensor.
     *
     * @param scales PER_ROW: the float16 scales (as floats); PER_TENSOR: the one float32 scale; else empty
     * @param codes  PER_ROW and PER_TENSOR: the int8 codes; else empty
     * @param values FP16 and FP32: the stored values (float16 ones as floats); else empty
     */
    public record Entry(String name, Kind kind, int[] shape, float[] scales, byte[] codes, float[] values) {
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        /** Bytes of its payload, as the seed's {@code int8_payload_bytes} counts them. */
        public long payloadBytes() {
            return switch (kind) {
                case PER_ROW -> codes.length + 2L * scales.length;
                case PER_TENSOR -> codes.length + 4L;
                case FP16 -> 2L * values.length;
                case FP32 -> 4L * values.length;
            };
        }
    }

    /** A quantized state: entries in input order. */
    public record Quantized(List<Entry> entries) {
        /** Elements over all tensors. */
        public long paramCount() {
            return entries.stream().mapToLong(Entry::numel).sum();
        }

        /** Float32 bytes of the original tensors (the seed's {@code baseline_tensor_bytes}). */
        public long baselineBytes() {
            return 4 * paramCount();
        }

        /** The seed's {@code int8_payload_bytes}. */
        public long payloadBytes() {
            return entries.stream().mapToLong(Entry::payloadBytes).sum();
        }
    }

    /** Per-row quantization of one matrix, with the intermediate clip values (for tests). */
    public record Rows(float[] clip, float[] scale32, float[] scale16, byte[] codes) {}

    /** Quantizes float32 tensors ({@code values} and {@code shapes} keyed alike, in order) with {@link Lerp#FLOAT32}. */
    public static Quantized quantize(Map<String, float[]> values, Map<String, int[]> shapes) {
        return quantize(values, shapes, Lerp.FLOAT32);
    }

    /** Quantizes float32 tensors as the seed's {@code quantize_state_dict_int8}. */
    public static Quantized quantize(Map<String, float[]> values, Map<String, int[]> shapes, Lerp lerp) {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            String name = e.getKey();
            float[] w = e.getValue();
            int[] shape = shapes.get(name);
            if (shape == null) throw new IllegalArgumentException("no shape for " + name);
            long numel = 1;
            for (int d : shape) numel *= d;
            if (numel != w.length) throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " but " + w.length + " values");
            if (w.length <= KEEP_FLOAT_MAX_NUMEL) {
                if (isControl(name)) {
                    out.add(new Entry(name, Kind.FP32, shape.clone(), new float[0], new byte[0], w.clone()));
                } else {
                    float[] h = new float[w.length];
                    for (int i = 0; i < w.length; i++) h[i] = Float.float16ToFloat(Float.floatToFloat16(w[i]));
                    out.add(new Entry(name, Kind.FP16, shape.clone(), new float[0], new byte[0], h));
                }
            } else if (shape.length == 2) {
                Rows r = quantizeRows(w, shape[0], shape[1], lerp);
                out.add(new Entry(name, Kind.PER_ROW, shape.clone(), r.scale16(), r.codes(), new float[0]));
            } else {
                float[] scale = new float[1];
                byte[] codes = quantizeTensor(w, lerp, scale);
                out.add(new Entry(name, Kind.PER_TENSOR, shape.clone(), scale, codes, new float[0]));
            }
        }
        return new Quantized(out);
    }

    /** Whether {@code name} contains a control pattern (kept in float32 when small). */
    public static boolean isControl(String name) {
        for (String p : CONTROL_PATTERNS) if (name.contains(p)) return true;
        return false;
    }

    /** The seed's per-row quantization of a {@code rows × cols} row-major float32 matrix. */
    public static Rows quantizeRows(float[] w, int rows, int cols, Lerp lerp) {
        float[] clip = new float[rows], s32 = new float[rows], s16 = new float[rows];
        byte[] codes = new byte[w.length];
        float[] abs = new float[cols];
        final float minScale = (float) (1.0 / 127.0);
        for (int r = 0; r < rows; r++) {
            int off = r * cols;
            for (int j = 0; j < cols; j++) abs[j] = Math.abs(w[off + j]);
            Arrays.sort(abs);
            double c = cols == 0 ? Double.NaN : quantile(abs, CLIP_Q, lerp);
            float s;
            if (lerp == Lerp.FLOAT32) {
                float cf = (float) c;
                s = max(cf / 127f, minScale);
                for (int j = 0; j < cols; j++) {
                    float x = min(max(w[off + j], -cf), cf);
                    codes[off + j] = code(x / s);
                }
            } else {
                s = (float) max(c / 127.0, 1.0 / 127.0);
                for (int j = 0; j < cols; j++) {
                    double x = min(max((double) w[off + j], -c), c);
                    codes[off + j] = code(x / (double) s);
                }
            }
            clip[r] = (float) c;
            s32[r] = s;
            s16[r] = Float.float16ToFloat(Float.floatToFloat16(s));
        }
        return new Rows(clip, s32, s16, codes);
    }

    /** The seed's per-tensor quantization; {@code scaleOut[0]} receives the float32 scale. */
    public static byte[] quantizeTensor(float[] w, Lerp lerp, float[] scaleOut) {
        double c = 0.0;
        if (w.length > 0) {
            float[] abs = new float[w.length];
            for (int i = 0; i < w.length; i++) abs[i] = Math.abs(w[i]);
            Arrays.sort(abs);
            c = quantile(abs, CLIP_Q, lerp);
            if (lerp == Lerp.FLOAT32) c = (float) c;
        }
        float scale = c > 0.0 ? (float) (c / 127.0) : 1f;
        float bound = (float) c;
        byte[] codes = new byte[w.length];
        for (int i = 0; i < w.length; i++) codes[i] = code(min(max(w[i], -bound), bound) / scale);
        scaleOut[0] = scale;
        return codes;
    }

    /**
     * numpy's {@code np.quantile(x, q)} (method "linear") of ascending {@code sorted}: the virtual
     * index {@code (n-1)*q}, its floor and the next order statistic, interpolated as numpy's
     * {@code _lerp} does ({@code a + (b-a)*g}, or {@code b - (b-a)*(1-g)} when {@code g >= 0.5}) in
     * the given precision. A NaN (sorted last) gives NaN.
     */
    public static double quantile(float[] sorted, double q, Lerp lerp) {
        int n = sorted.length;
        if (Float.isNaN(sorted[n - 1])) return Double.NaN;
        double vi = (n - 1) * q;
        int prev, next;
        double gamma;
        if (vi >= n - 1) {
            prev = next = n - 1;
            gamma = vi + 1; // numpy sets both indexes to -1, so gamma = vi - (-1)
        } else if (vi < 0) {
            prev = next = 0;
            gamma = vi;
        } else {
            prev = (int) Math.floor(vi);
            next = prev + 1;
            gamma = vi - prev;
        }
        float a = sorted[prev], b = sorted[next];
        float diff = b - a;
        if (lerp == Lerp.FLOAT32) {
            return gamma >= 0.5 ? b - diff * (float) (1 - gamma) : a + diff * (float) gamma;
        }
        return gamma >= 0.5 ? b - (double) diff * (1 - gamma) : a + (double) diff * gamma;
    }

    // numpy's minimum/maximum propagate NaN, as Math.min/max do.
    private static float max(float a, float b) {
        return Math.max(a, b);
    }

    private static float min(float a, float b) {
        return Math.min(a, b);
    }

    private static double max(double a, double b) {
        return Math.max(a, b);
    }

    private static double min(double a, double b) {
        return Math.min(a, b);
    }

    /** {@code clip(round_half_even(x), -127, 127)} as int8 ({@code np.round} is rint). */
    static byte code(double x) {
        double r = Math.rint(x);
        if (r > 127) r = 127;
        if (r < -127) r = -127;
        return (byte) (int) r;
    }

    /** The float32 values the seed's {@code dequantize_state_dict_int8} gives, by name in order. */
    public static Map<String, float[]> dequantize(Quantized q) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Entry e : q.entries()) {
            float[] v;
            switch (e.kind()) {
                case PER_ROW -> {
                    int rows = e.shape()[0];
                    int cols = rows == 0 ? 0 : e.codes().length / rows;
                    v = new float[e.codes().length];
                    for (int r = 0; r < rows; r++) {
                        float s = e.scales()[r];
                        for (int j = 0; j < cols; j++) v[r * cols + j] = e.codes()[r * cols + j] * s;
                    }
                }
                case PER_TENSOR -> {
                    v = new float[e.codes().length];
                    float s = e.scales()[0];
                    for (int i = 0; i < v.length; i++) v[i] = e.codes()[i] * s;
                }
                default -> v = e.values().clone();
            }
            out.put(e.name(), v);
        }
        return out;
    }

    /** The uncompressed byte layout described in the class comment. */
    public static byte[] serialize(Quantized q) {
        long size = 12;
        for (Entry e : q.entries()) {
            size += 2 + e.name().getBytes(StandardCharsets.UTF_8).length + 2 + 4L * e.shape().length + e.payloadBytes();
        }
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("artifact of " + size + " bytes is too large");
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(q.entries().size());
        for (Entry e : q.entries()) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 0xFFFF) throw new IllegalArgumentException("tensor name too long: " + e.name());
            b.putShort((short) name.length).put(name);
            b.put((byte) e.kind().ordinal()).put((byte) e.shape().length);
            for (int d : e.shape()) b.putInt(d);
            switch (e.kind()) {
                case PER_ROW -> {
                    for (float s : e.scales()) b.putShort(Float.floatToFloat16(s));
                    b.put(e.codes());
                }
                case PER_TENSOR -> b.putFloat(e.scales()[0]).put(e.codes());
                case FP16 -> {
                    for (float v : e.values()) b.putShort(Float.floatToFloat16(v));
                }
                case FP32 -> {
                    for (float v : e.values()) b.putFloat(v);
                }
            }
        }
        return b.array();
    }

    /** Reads {@link #serialize}'s layout. @throws IllegalArgumentException when malformed */
    public static Quantized deserialize(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte[] magic = new byte[4];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException("not an MXI8 artifact (bad magic)");
            int version = b.getInt();
            if (version != VERSION) throw new IllegalArgumentException("MXI8 version " + version + ", expected " + VERSION);
            int count = b.getInt();
            List<Entry> out = new ArrayList<>();
            for (int t = 0; t < count; t++) {
                byte[] name = new byte[Short.toUnsignedInt(b.getShort())];
                b.get(name);
                int kindCode = b.get();
                if (kindCode < 0 || kindCode >= Kind.values().length) throw new IllegalArgumentException("bad kind " + kindCode);
                Kind kind = Kind.values()[kindCode];
                int[] shape = new int[Byte.toUnsignedInt(b.get())];
                long numel = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = b.getInt();
                    if (shape[i] < 0) throw new IllegalArgumentException("negative dimension");
                    numel *= shape[i];
                }
                if (numel > b.remaining()) throw new IllegalArgumentException("tensor larger than the file");
                int n = (int) numel;
                float[] scales = new float[0], values = new float[0];
                byte[] codes = new byte[0];
                switch (kind) {
                    case PER_ROW -> {
                        if (shape.length != 2) throw new IllegalArgumentException("per-row tensor of rank " + shape.length);
                        scales = new float[shape[0]];
                        for (int i = 0; i < scales.length; i++) scales[i] = Float.float16ToFloat(b.getShort());
                        codes = new byte[n];
                        b.get(codes);
                    }
                    case PER_TENSOR -> {
                        scales = new float[] {b.getFloat()};
                        codes = new byte[n];
                        b.get(codes);
                    }
                    case FP16 -> {
                        values = new float[n];
                        for (int i = 0; i < n; i++) values[i] = Float.float16ToFloat(b.getShort());
                    }
                    case FP32 -> {
                        values = new float[n];
                        for (int i = 0; i < n; i++) values[i] = b.getFloat();
                    }
                }
                out.add(new Entry(new String(name, StandardCharsets.UTF_8), kind, shape, scales, codes, values));
            }
            if (b.hasRemaining()) throw new IllegalArgumentException(b.remaining() + " trailing bytes");
            return new Quantized(out);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated MXI8 artifact", e);
        }
    }

    /** zlib level 9, as Python's {@code zlib.compress(raw, level=9)}. */
    public static byte[] compress(byte[] raw) {
        Deflater d = new Deflater(9);
        try {
            d.setInput(raw);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, raw.length / 2));
            byte[] buf = new byte[1 << 16];
            while (!d.finished()) out.write(buf, 0, d.deflate(buf));
            return out.toByteArray();
        } finally {
            d.end();
        }
    }

    /** Inflates a zlib stream. @throws IllegalArgumentException when it is not one */
    public static byte[] decompress(byte[] blob) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(blob);
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, blob.length * 2));
            byte[] buf = new byte[1 << 16];
            while (!inf.finished()) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) throw new IllegalArgumentException("truncated zlib stream");
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("not a zlib stream: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }
}
