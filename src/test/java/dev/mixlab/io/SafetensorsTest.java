package dev.mixlab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsAllDtypes() throws IOException {
        Map<String, Tensor> ts = new LinkedHashMap<>();
        ts.put("w.f32", Tensor.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-8f,
                Float.MAX_VALUE}));
        ts.put("a.f64", Tensor.ofDoubles(new long[] {2}, new double[] {Math.PI, -1e300}));
        ts.put("b.bf16", Tensor.ofBf16(new long[] {3}, new float[] {1f, -2.5f, 3.140625f}));
        ts.put("c.f16", Tensor.ofF16(new long[] {1, 2}, new float[] {0.5f, -65504f}));
        ts.put("d.i32", Tensor.ofInts(new long[] {3}, new int[] {Integer.MIN_VALUE, 0, 7}));
        ts.put("e.i64", Tensor.ofLongs(new long[] {2}, new long[] {Long.MAX_VALUE, -3}));
        ts.put("f.u8", Tensor.ofBytes(new long[] {3}, new byte[] {0, 1, (byte) 255}));
        ts.put("scalar", Tensor.ofFloats(new long[0], new float[] {42f}));
        ts.put("empty", Tensor.ofFloats(new long[] {0, 4}, new float[0]));
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, ts, Map.of("step", "100", "config", "{\"d\": 64}"));
        assertFalse(Files.exists(dir.resolve("m.safetensors.tmp")));

        byte[] raw = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"config\""), header);
        assertTrue(header.indexOf("\"a.f64\"") < header.indexOf("\"w.f32\""), header);

        try (SafetensorsFile r = Safetensors.read(f)) {
            assertEquals(List.of("a.f64", "b.bf16", "c.f16", "d.i32", "e.i64", "empty", "f.u8",
                    "scalar", "w.f32"), r.names());
            assertEquals(Map.of("step", "100", "config", "{\"d\": 64}"), r.metadata());
            for (Map.Entry<String, Tensor> e : ts.entrySet()) {
                assertEquals(e.getValue(), r.tensor(e.getKey()), e.getKey());
            }
            assertArrayEquals(new float[] {1, -2, 3.5f, 0, 1e-8f, Float.MAX_VALUE},
                    r.tensor("w.f32").floats());
            assertArrayEquals(new long[] {2, 3}, r.tensor("w.f32").shape());
            assertArrayEquals(new double[] {Math.PI, -1e300}, r.tensor("a.f64").doubles());
            assertArrayEquals(new float[] {1f, -2.5f, 3.140625f}, r.tensor("b.bf16").floats());
            assertArrayEquals(new float[] {0.5f, -65504f}, r.tensor("c.f16").floats());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, 7}, r.tensor("d.i32").ints());
            assertArrayEquals(new long[] {Long.MAX_VALUE, -3}, r.tensor("e.i64").longs());
            assertArrayEquals(new int[] {0, 1, 255}, r.tensor("f.u8").ints());
            assertArrayEquals(new float[] {42f}, r.tensor("scalar").floats());
            assertEquals(0, r.tensor("empty").floats().length);
            SafetensorsException e = assertThrows(SafetensorsException.class,
                    () -> r.tensor("nope"));
            assertTrue(e.getMessage().startsWith(f + ": no tensor 'nope'"), e.getMessage());
        }
        // Overwrite in place (the rename replaces the old file).
        Safetensors.write(f, Map.of("x", Tensor.ofInts(new long[] {1}, new int[] {5})), null);
        try (SafetensorsFile r = Safetensors.read(f)) {
            assertEquals(List.of("x"), r.names());
            assertTrue(r.metadata().isEmpty());
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        float justAboveHalf = Float.intBitsToFloat(0x3F808001); // rounds up
        float exactHalfEven = Float.intBitsToFloat(0x3F808000); // tie, lsb 0 stays
        float[] v = Tensor.ofBf16(new long[] {2}, new float[] {justAboveHalf, exactHalfEven})
                .floats();
        assertEquals(Float.intBitsToFloat(0x3F810000), v[0]);
        assertEquals(Float.intBitsToFloat(0x3F800000), v[1]);
        assertTrue(Float.isNaN(Tensor.ofBf16(new long[] {1}, new float[] {Float.NaN})
                .floats()[0]));
    }

    // ---- malformed files, crafted by hand ----

    private Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, bytes);
        return f;
    }

    /** 8-byte length + header (not padded) + data. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return file(b.array());
    }

    private void assertBad(Path f, String... mustContain) {
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> Safetensors.read(f).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": "), m);
        assertFalse(m.contains("\n"), m);
        for (String s : mustContain) {
            assertTrue(m.contains(s), "'" + s + "' missing from: " + m);
        }
    }

    private static String t(String name, String dtype, String shape, long b, long e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":[" + b + "," + e + "]}";
    }

    @Test
    void shorterThanEightBytes() throws IOException {
        assertBad(file(new byte[] {1, 2, 3}), "3 bytes", "shorter than the 8-byte");
        assertBad(file(new byte[0]), "0 bytes");
    }

    @Test
    void missingFile() {
        assertBad(dir.resolve("none.safetensors"), "cannot read");
    }

    @Test
    void headerLengthTooLarge() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(1000);
        assertBad(file(b.array()), "header length 1000", "larger than the rest");
        b.putLong(0, 200L * 1024 * 1024);
        assertBad(file(b.array()), "over the 104857600-byte limit");
        b.putLong(0, -1L); // u64 max
        assertBad(file(b.array()), "18446744073709551615");
    }

    @Test
    void headerNotJsonOrNotObject() throws IOException {
        assertBad(file("{\"a\":", 0), "not valid JSON");
        assertBad(file("[1,2]", 0), "not a JSON object");
        assertBad(file("", 0), "not a JSON object");
        assertBad(file("{} x", 0), "not valid JSON");
        assertBad(file("{" + t("a", "U8", "[1]", 0, 1) + "," + t("a", "U8", "[1]", 1, 2) + "}",
                2), "not valid JSON", "a");
        assertBad(file("{\"a\": 3}", 0), "tensor 'a'", "not an object");
        assertBad(file("{\"__metadata__\": {\"k\": 1}}", 0), "__metadata__", "'k'");
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(file("{" + t("w", "Q4", "[2]", 0, 2) + "}", 2), "tensor 'w'",
                "unknown dtype 'Q4'");
    }

    @Test
    void badShapeOrOffsets() throws IOException {
        assertBad(file("{" + t("w", "F32", "[2,3]", 0, 20) + "}", 20), "tensor 'w'",
                "needs 24 bytes", "hold 20");
        assertBad(file("{" + t("w", "F32", "[-1]", 0, 4) + "}", 4), "tensor 'w'", "shape");
        assertBad(file("{" + t("w", "F32", "[1.5]", 0, 4) + "}", 4), "tensor 'w'", "shape");
        assertBad(file("{" + t("w", "F32", "[4611686018427387904,4]", 0, 4) + "}", 4),
                "tensor 'w'", "too large");
        assertBad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                "tensor 'w'", "data_offsets");
        assertBad(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "shape");
        assertBad(file("{" + t("w", "F32", "[1]", 4, 0) + "}", 4), "tensor 'w'",
                "end before begin");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertBad(file("{" + t("w", "F32", "[2]", 0, 8) + "}", 4), "tensor 'w'",
                "out of range", "4 bytes");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertBad(file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[1]", 4, 8)
                + "}", 8), "tensor 'b'", "overlaps tensor 'a'");
    }

    @Test
    void holesInData() throws IOException {
        assertBad(file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12)
                + "}", 12), "hole of 4 bytes", "tensor 'b'");
        assertBad(file("{" + t("a", "F32", "[1]", 4, 8) + "}", 8), "hole", "tensor 'a'");
        assertBad(file("{" + t("a", "F32", "[1]", 0, 4) + "}", 6), "2 bytes after",
                "tensor 'a'");
    }

    @Test
    void acceptsHandMadeUnpaddedFile() throws IOException {
        Path f = file("{" + t("b", "U8", "[2]", 4, 6) + "," + t("a", "I32", "[1]", 0, 4) + "}",
                6);
        try (SafetensorsFile r = Safetensors.read(f)) {
            assertEquals(List.of("a", "b"), r.names());
            assertArrayEquals(new int[] {0}, r.tensor("a").ints());
        }
    }
}
