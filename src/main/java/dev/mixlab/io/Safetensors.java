package dev.mixlab.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length {@code N}, a
 * JSON header of {@code N} bytes ({@code "__metadata__"} string map, then per tensor
 * {@code dtype}, {@code shape}, {@code data_offsets [begin, end)} relative to the data start),
 * then the tensor bytes, back to back.
 */
public final class Safetensors {
    /** Largest header accepted on read; bigger means a corrupt length, not a real file. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Safetensors() {}

    /**
     * Writes {@code tensors} (laid out in name order) and {@code metadata} to {@code file}, via
     * {@code file.tmp} and an atomic rename so a crash never leaves a half-written checkpoint.
     *
     * @throws SafetensorsException on a bad name or an I/O error
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        String where = file.toString();
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            if (e.getKey().equals(METADATA) || e.getKey().isEmpty()) {
                throw new SafetensorsException(where, "tensor name '" + e.getKey()
                        + "' is reserved or empty");
            }
            Tensor t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype());
            ArrayNode shape = n.putArray("shape");
            for (long s : t.shape()) {
                shape.add(s);
            }
            long end = offset + t.data().byteSize();
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(where, "cannot encode the header (" + e + ")", e);
        }
        // Pad with spaces so the data starts 8-byte aligned (8 + N is a multiple of 8).
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                writeFully(ch, head);
                for (Tensor t : sorted.values()) {
                    MemorySegment d = t.data();
                    // asByteBuffer is limited to 2 GB, so big (mapped) tensors go in slices.
                    for (long p = 0; p < d.byteSize(); p += 1 << 30) {
                        long len = Math.min(1 << 30, d.byteSize() - p);
                        writeFully(ch, d.asSlice(p, len).asByteBuffer());
                    }
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write error below is the one worth reporting
            }
            throw new SafetensorsException(where, "cannot write (" + e + ")", e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Opens and validates {@code file}, memory-mapping the tensor data. Every malformed input
     * gives a {@link SafetensorsException} naming the file (and tensor), never an
     * out-of-memory error or a raw exception.
     */
    public static SafetensorsFile read(Path file) {
        String where = file.toString();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment all;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 8) {
                    throw new SafetensorsException(where, "file is " + size
                            + " bytes, shorter than the 8-byte header length");
                }
                all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                throw new SafetensorsException(where, "cannot read (" + e + ")", e);
            }
            long size = all.byteSize();
            long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new SafetensorsException(where, "header length "
                        + Long.toUnsignedString(n) + " is over the " + MAX_HEADER_BYTES
                        + "-byte limit (corrupt or not a safetensors file)");
            }
            if (n > size - 8) {
                throw new SafetensorsException(where, "header length " + n
                        + " is larger than the rest of the file (" + (size - 8) + " bytes)");
            }
            byte[] json = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = all.asSlice(8 + n);
            Parsed p = parseHeader(where, json, data.byteSize());
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : p.entries) {
                tensors.put(e.name, new Tensor(e.dtype.name(), e.shape,
                        data.asSlice(e.begin, e.end - e.begin)));
            }
            return new SafetensorsFile(where, arena, tensors, p.metadata);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private record Parsed(List<Entry> entries, Map<String, String> metadata) {}

    private static Parsed parseHeader(String where, byte[] json, long dataBytes) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines()
                    .findFirst().orElse("");
            throw new SafetensorsException(where, "header is not valid JSON (" + msg + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(where, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals(METADATA)) {
                if (!v.isObject()) {
                    throw new SafetensorsException(where, "__metadata__ is not an object");
                }
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw new SafetensorsException(where, "__metadata__ value '"
                                + kv.getKey() + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(parseEntry(where, name, v, dataBytes));
        }
        checkLayout(where, entries, dataBytes);
        return new Parsed(entries, metadata);
    }

    private static Entry parseEntry(String where, String name, JsonNode v, long dataBytes) {
        String t = "tensor '" + name + "': ";
        if (!v.isObject()) {
            throw new SafetensorsException(where, t + "entry is not an object");
        }
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new SafetensorsException(where, t + "missing or non-string dtype");
        }
        DType dtype = DType.parse(dt.textValue());
        if (dtype == null) {
            throw new SafetensorsException(where, t + "unknown dtype '" + dt.textValue()
                    + "' (supported: " + Arrays.toString(DType.values()) + ")");
        }
        long[] shape = longs(where, t + "shape", v.get("shape"), -1);
        long[] off = longs(where, t + "data_offsets", v.get("data_offsets"), 2);
        long begin = off[0];
        long end = off[1];
        if (begin > end) {
            throw new SafetensorsException(where, t + "data_offsets [" + begin + ", " + end
                    + "] end before begin");
        }
        if (end > dataBytes) {
            throw new SafetensorsException(where, t + "data_offsets [" + begin + ", " + end
                    + "] out of range: the data region has " + dataBytes + " bytes");
        }
        long need;
        try {
            need = Math.multiplyExact(Tensor.numel(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where, t + "shape " + Arrays.toString(shape)
                    + " is too large");
        }
        if (need != end - begin) {
            throw new SafetensorsException(where, t + "shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + need + " bytes but data_offsets [" + begin + ", " + end
                    + "] hold " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longs(String where, String what, JsonNode a, int length) {
        if (a == null || !a.isArray() || (length >= 0 && a.size() != length)) {
            throw new SafetensorsException(where, what + " is missing or not an array"
                    + (length >= 0 ? " of " + length + " integers" : ""));
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = a.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() < 0) {
                throw new SafetensorsException(where, what + " has " + x
                        + ", not a non-negative integer");
            }
            out[i] = x.longValue();
        }
        return out;
    }

    // The tensors must tile the data region exactly: sorted by offset, each starts where the
    // previous ends, the first at 0 and the last at the end (no overlaps, holes or tail).
    private static void checkLayout(String where, List<Entry> entries, long dataBytes) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        String prev = null;
        for (Entry e : byOffset) {
            if (e.begin < pos) {
                throw new SafetensorsException(where, "tensor '" + e.name + "' [" + e.begin
                        + ", " + e.end + ") overlaps tensor '" + prev + "' (ends at " + pos + ")");
            }
            if (e.begin > pos) {
                throw new SafetensorsException(where, "hole of " + (e.begin - pos)
                        + " bytes in the data before tensor '" + e.name + "' (at " + pos + ")");
            }
            pos = e.end;
            prev = e.name;
        }
        if (pos != dataBytes) {
            throw new SafetensorsException(where, (dataBytes - pos) + " bytes after "
                    + (prev == null ? "the header" : "the last tensor '" + prev + "'")
                    + " belong to no tensor");
        }
    }
}
