package dev.mixlab.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A memory-mapped token shard in the llm.c / parameter-golf format: a header of 256
 * little-endian int32 ({@code [0]} magic 20240520, {@code [1]} version 1, {@code [2]} token
 * count), then {@code count} little-endian uint16 tokens. The file size must be exactly
 * {@code 1024 + 2 * count}.
 */
public final class ShardTokens implements TokenData {
    /** Magic number in {@code header[0]}. */
    public static final int MAGIC = 20240520;
    /** The only supported version, {@code header[1]}. */
    public static final int VERSION = 1;
    /** Header size in bytes (256 int32). */
    public static final int HEADER_BYTES = 1024;

    static final ValueLayout.OfInt INT_LE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String label;
    private final MemorySegment tokens;
    private final long size;

    private ShardTokens(String label, MemorySegment tokens) {
        this.label = label;
        this.tokens = tokens;
        this.size = tokens.byteSize() / 2;
    }

    /** True when the file starts with the shard magic number (used to tell shards from text). */
    static boolean hasMagic(MemorySegment file) {
        return file.byteSize() >= 4 && file.get(INT_LE, 0) == MAGIC;
    }

    /**
     * Maps and validates a shard: header, exact file size, and that every token id is below
     * {@code vocabSize} (one scan at open, so training never meets a bad id mid-run).
     *
     * @throws DataException naming the file, what is wrong and the fix
     */
    public static ShardTokens open(Path file, int vocabSize) {
        String where = file.toString();
        MemorySegment all = Mmap.map(file);
        long bytes = all.byteSize();
        if (bytes < HEADER_BYTES) {
            if (!hasMagic(all)) {
                throw new DataException(where, "not a token shard (" + bytes
                        + " bytes, no magic " + MAGIC + " at the start)",
                        "give a shard written by the tokenizer, or a name not ending in .bin"
                                + " if it is plain text");
            }
            throw new DataException(where, "truncated shard: " + bytes
                    + " bytes, shorter than the " + HEADER_BYTES + "-byte header",
                    "re-create the shard (the copy or download was cut short)");
        }
        int magic = all.get(INT_LE, 0);
        if (magic != MAGIC) {
            throw new DataException(where, "not a token shard (wrong magic " + magic
                    + ", expected " + MAGIC + ")",
                    "give a shard written by the tokenizer, or a name not ending in .bin"
                            + " if it is plain text");
        }
        int version = all.get(INT_LE, 4);
        if (version != VERSION) {
            throw new DataException(where, "shard version " + version + ", only version "
                    + VERSION + " is supported", "re-tokenize with a version-1 shard writer");
        }
        long count = Integer.toUnsignedLong(all.get(INT_LE, 8)); // int32 field, read unsigned
        long expected = HEADER_BYTES + 2 * count;
        if (bytes != expected) {
            throw new DataException(where, "header says " + count + " tokens, i.e. "
                    + expected + " bytes, but the file has " + bytes + " bytes ("
                    + (bytes < expected ? "truncated" : "trailing data") + ")",
                    "re-create the shard (the copy was cut short or the file is corrupt)");
        }
        MemorySegment tokens = all.asSlice(HEADER_BYTES, 2 * count);
        checkVocab(where, tokens, vocabSize);
        return new ShardTokens(where, tokens);
    }

    // Scans in chunks copied to a short[]: the max-reduction loop over an array is one the JIT
    // vectorizes, and only a chunk whose max is too large is searched for the first bad id.
    private static void checkVocab(String where, MemorySegment tokens, int vocabSize) {
        if (vocabSize >= 65536) {
            return; // every uint16 fits
        }
        long n = tokens.byteSize() / 2;
        short[] buf = new short[1 << 16];
        for (long start = 0; start < n; start += buf.length) {
            int len = (int) Math.min(buf.length, n - start);
            MemorySegment.copy(tokens, SHORT_LE, start * 2, buf, 0, len);
            int max = 0;
            for (int k = 0; k < len; k++) {
                max = Math.max(max, buf[k] & 0xFFFF);
            }
            if (max >= vocabSize) {
                for (int k = 0; k < len; k++) {
                    int id = buf[k] & 0xFFFF;
                    if (id >= vocabSize) {
                        throw new DataException(where, "token id " + id + " at position "
                                + (start + k) + " is outside the vocabulary (vocab_size "
                                + vocabSize + ")", "set vocab_size >= " + (id + 1)
                                + " in the config or re-tokenize");
                    }
                }
            }
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int get(long i) {
        return tokens.getAtIndex(SHORT_LE, i) & 0xFFFF;
    }

    @Override
    public void copy(long from, int[] dst, int dstOff, int len) {
        MemorySegment src = tokens.asSlice(from * 2, (long) len * 2); // bounds-checked
        for (int k = 0; k < len; k++) {
            dst[dstOff + k] = src.getAtIndex(SHORT_LE, k) & 0xFFFF;
        }
    }

    @Override
    public String describe() {
        return label;
    }

    @Override
    public String toString() {
        return "shard " + label + " (" + size + " tokens)";
    }
}
