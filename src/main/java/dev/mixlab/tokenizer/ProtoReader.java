package dev.mixlab.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * A minimal reader of the protocol-buffers wire format (no schema, no dependency): a message is a
 * sequence of fields, each a varint key {@code (number << 3) | wireType} followed by its value.
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited (bytes, strings, sub-messages, packed
 * arrays), 5 fixed32; the deprecated groups (3, 4) are refused. Every read is bounds-checked and a
 * malformed message gives an {@link IllegalArgumentException} naming the byte offset.
 *
 * <pre>{@code
 * ProtoReader r = new ProtoReader(bytes);
 * while (r.next()) {
 *     switch (r.field()) {
 *         case 1 -> name = r.string();
 *         case 2 -> score = r.fixed32Float();
 *         default -> r.skip();
 *     }
 * }
 * }</pre>
 */
public final class ProtoReader {
    public static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final byte[] buf;
    private final int end;
    private int pos;
    private int field, wireType;
    private boolean consumed = true;

    /** A reader over all of {@code buf}. */
    public ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    /** A reader over {@code buf[from, to)}. */
    public ProtoReader(byte[] buf, int from, int to) {
        if (from < 0 || to > buf.length || from > to) throw new IndexOutOfBoundsException(from + ".." + to);
        this.buf = buf;
        this.pos = from;
        this.end = to;
    }

    /**
     * Advances to the next field; false at the end of the message. The previous field's value is
     * skipped if it was not read.
     */
    public boolean next() {
        if (!consumed) skip();
        if (pos >= end) return false;
        int at = pos;
        long key = varint();
        wireType = (int) (key & 7);
        long number = key >>> 3;
        if (number < 1 || number > 0x1FFFFFFF) throw bad(at, "field number " + number);
        if (wireType != VARINT && wireType != FIXED64 && wireType != LEN && wireType != FIXED32) {
            throw bad(at, "unsupported wire type " + wireType + " (field " + number + ")");
        }
        field = (int) number;
        consumed = false;
        return true;
    }

    /** The current field's number. */
    public int field() {
        return field;
    }

    /** The current field's wire type. */
    public int wireType() {
        return wireType;
    }

    /** The current varint field (int32, int64, uint, bool, enum). */
    public long varintValue() {
        expect(VARINT);
        consumed = true;
        return varint();
    }

    /** The current fixed32 field as a float ({@code float} in a .proto). */
    public float fixed32Float() {
        return Float.intBitsToFloat(fixed32());
    }

    /** The current fixed32 field as raw little-endian bits. */
    public int fixed32() {
        expect(FIXED32);
        consumed = true;
        need(4);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** The current fixed64 field as raw little-endian bits. */
    public long fixed64() {
        expect(FIXED64);
        consumed = true;
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | (buf[pos + i] & 0xFF);
        pos += 8;
        return v;
    }

    /** The current length-delimited field as bytes. */
    public byte[] bytes() {
        int[] r = lenRange();
        return java.util.Arrays.copyOfRange(buf, r[0], r[1]);
    }

    /** The current length-delimited field as a UTF-8 string. */
    public String string() {
        int[] r = lenRange();
        return new String(buf, r[0], r[1] - r[0], StandardCharsets.UTF_8);
    }

    /** The current length-delimited field as an embedded message. */
    public ProtoReader message() {
        int[] r = lenRange();
        return new ProtoReader(buf, r[0], r[1]);
    }

    /** Skips the current field's value. */
    public void skip() {
        if (consumed) return;
        switch (wireType) {
            case VARINT -> varintValue();
            case FIXED64 -> fixed64();
            case LEN -> lenRange();
            case FIXED32 -> fixed32();
            default -> throw new IllegalStateException("wire type " + wireType);
        }
    }

    private int[] lenRange() {
        expect(LEN);
        consumed = true;
        int at = pos;
        long n = varint();
        if (n < 0 || n > end - pos) throw bad(at, "length " + n + " runs past the end (" + (end - pos) + " bytes left)");
        int from = pos;
        pos += (int) n;
        return new int[] {from, pos};
    }

    private long varint() {
        int at = pos;
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw bad(at, "truncated varint");
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
        throw bad(at, "varint longer than 10 bytes");
    }

    private void need(int n) {
        if (end - pos < n) throw bad(pos, "truncated fixed" + (8 * n) + " value");
    }

    private void expect(int type) {
        if (consumed) throw new IllegalStateException("field " + field + " was already read");
        if (wireType != type) throw bad(pos, "field " + field + " has wire type " + wireType + ", expected " + type);
    }

    private static IllegalArgumentException bad(int at, String what) {
        return new IllegalArgumentException("malformed protobuf at byte " + at + ": " + what);
    }
}
