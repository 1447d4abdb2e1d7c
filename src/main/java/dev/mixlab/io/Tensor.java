package dev.mixlab.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor as stored in safetensors: dtype, shape and little-endian row-major bytes.
 * The data may be a heap segment or a slice of a memory-mapped file (valid while that
 * {@link SafetensorsFile} is open; the conversion helpers copy).
 *
 * @param dtype one of "F32", "F64", "BF16", "F16", "I32", "I64", "U8"
 * @param shape dimensions, each {@code >= 0}; empty for a scalar
 * @param data  exactly {@code product(shape) * dtype size} bytes
 */
public record Tensor(String dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Checks dtype, shape and that the data has exactly the bytes the shape needs. */
    public Tensor {
        DType d = DType.parse(dtype);
        if (d == null) {
            throw new IllegalArgumentException("unsupported dtype " + dtype);
        }
        shape = shape.clone();
        long need = numel(shape) * d.bytes(); // numel throws on overflow or negative dims
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + need + " bytes, data has " + data.byteSize());
        }
    }

    /** Product of {@code shape}; 1 for a scalar. @throws ArithmeticException on overflow */
    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("negative dimension in "
                        + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The parsed dtype. */
    public DType type() {
        return DType.parse(dtype);
    }

    /** An F32 tensor holding a copy of {@code v}. */
    public static Tensor ofFloats(long[] shape, float[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            m.setAtIndex(F32, i, v[i]);
        }
        return new Tensor("F32", shape, m);
    }

    /** An F64 tensor holding a copy of {@code v}. */
    public static Tensor ofDoubles(long[] shape, double[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 8]);
        for (int i = 0; i < v.length; i++) {
            m.setAtIndex(F64, i, v[i]);
        }
        return new Tensor("F64", shape, m);
    }

    /** A BF16 tensor of {@code v} rounded to nearest even (NaN stays NaN). */
    public static Tensor ofBf16(long[] shape, float[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 2]);
        for (int i = 0; i < v.length; i++) {
            int bits = Float.floatToRawIntBits(v[i]);
            int h = Float.isNaN(v[i]) ? (bits >>> 16) | 0x40
                    : (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
            m.setAtIndex(I16, i, (short) h);
        }
        return new Tensor("BF16", shape, m);
    }

    /** An F16 tensor of {@code v} (IEEE half, round to nearest even). */
    public static Tensor ofF16(long[] shape, float[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 2]);
        for (int i = 0; i < v.length; i++) {
            m.setAtIndex(I16, i, Float.floatToFloat16(v[i]));
        }
        return new Tensor("F16", shape, m);
    }

    /** An I32 tensor holding a copy of {@code v}. */
    public static Tensor ofInts(long[] shape, int[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            m.setAtIndex(I32, i, v[i]);
        }
        return new Tensor("I32", shape, m);
    }

    /** An I64 tensor holding a copy of {@code v}. */
    public static Tensor ofLongs(long[] shape, long[] v) {
        MemorySegment m = MemorySegment.ofArray(new byte[v.length * 8]);
        for (int i = 0; i < v.length; i++) {
            m.setAtIndex(I64, i, v[i]);
        }
        return new Tensor("I64", shape, m);
    }

    /** A U8 tensor holding a copy of {@code v}. */
    public static Tensor ofBytes(long[] shape, byte[] v) {
        return new Tensor("U8", shape, MemorySegment.ofArray(v.clone()));
    }

    private int count() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(n + " elements do not fit a Java array");
        }
        return (int) n;
    }

    /** The values as floats; F32, F64 (rounded), BF16 and F16 only. */
    public float[] floats() {
        int n = count();
        float[] out = new float[n];
        switch (type()) {
            case F32 -> MemorySegment.copy(data, F32, 0, out, 0, n);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) data.getAtIndex(F64, i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((data.getAtIndex(I16, i) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(data.getAtIndex(I16, i));
                }
            }
            default -> throw new IllegalStateException(dtype + " is not a float type; use ints()");
        }
        return out;
    }

    /** The values as doubles; F32, F64, BF16 and F16 only. */
    public double[] doubles() {
        if (type() == DType.F64) {
            double[] out = new double[count()];
            MemorySegment.copy(data, F64, 0, out, 0, out.length);
            return out;
        }
        float[] f = floats();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /**
     * The values as ints; I32, U8 (unsigned) and I64 (each value must fit an int).
     *
     * @throws IllegalStateException for float dtypes or an I64 value out of int range
     */
    public int[] ints() {
        int n = count();
        int[] out = new int[n];
        switch (type()) {
            case I32 -> MemorySegment.copy(data, I32, 0, out, 0, n);
            case U8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = data.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                }
            }
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    long v = data.getAtIndex(I64, i);
                    if (v != (int) v) {
                        throw new IllegalStateException("I64 value " + v + " at " + i
                                + " does not fit an int");
                    }
                    out[i] = (int) v;
                }
            }
            default -> throw new IllegalStateException(dtype + " is not an int type; use floats()");
        }
        return out;
    }

    /** The values as longs; I64, I32 and U8. */
    public long[] longs() {
        if (type() != DType.I64) {
            int[] v = ints();
            long[] out = new long[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = v[i];
            }
            return out;
        }
        long[] out = new long[count()];
        MemorySegment.copy(data, I64, 0, out, 0, out.length);
        return out;
    }

    /** Same dtype, shape and bytes. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && dtype.equals(t.dtype) && Arrays.equals(shape, t.shape)
                && data.byteSize() == t.data.byteSize() && data.mismatch(t.data) < 0;
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
