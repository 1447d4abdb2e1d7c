package dev.mixlab.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/** A memory-mapped plain file read as bytes: each byte is one token, vocabulary 256. */
public final class TextTokens implements TokenData {
    /** Vocabulary size of byte-level text. */
    public static final int VOCAB = 256;

    private final String label;
    private final MemorySegment bytes;

    private TextTokens(String label, MemorySegment bytes) {
        this.label = label;
        this.bytes = bytes;
    }

    /**
     * Maps {@code file} as byte tokens.
     *
     * @throws DataException if {@code vocabSize < 256} (a byte could be out of range) or the
     *                       file cannot be read
     */
    public static TextTokens open(Path file, int vocabSize) {
        String where = file.toString();
        if (vocabSize < VOCAB) {
            throw new DataException(where, "plain text is read as bytes (ids 0..255) but"
                    + " vocab_size is " + vocabSize, "set vocab_size >= 256 in the config or"
                    + " give a token shard (.bin) tokenized with vocab " + vocabSize);
        }
        return new TextTokens(where, Mmap.map(file));
    }

    @Override
    public long size() {
        return bytes.byteSize();
    }

    @Override
    public int get(long i) {
        return bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
    }

    @Override
    public void copy(long from, int[] dst, int dstOff, int len) {
        MemorySegment src = bytes.asSlice(from, len); // bounds-checked
        for (int k = 0; k < len; k++) {
            dst[dstOff + k] = src.get(ValueLayout.JAVA_BYTE, k) & 0xFF;
        }
    }

    @Override
    public String describe() {
        return label;
    }

    @Override
    public String toString() {
        return "text " + label + " (" + size() + " bytes)";
    }
}
