package dev.mixlab.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The protobuf wire reader, and the committed SentencePiece model read through it. */
class SentencePieceModelTest {
    static final Path MODEL = Path.of("src/test/resources/sp/shakespeare_1024_bpe.model");

    @Test
    void readsTheCommittedModel() {
        SentencePieceModel sp = SentencePieceModel.read(MODEL);
        assertEquals(1024, sp.size());
        // pad/bos/eos/unk = 0/1/2/3 (data/README.md), then the 256 byte pieces (byte_fallback)
        assertEquals("<pad>", sp.piece(0));
        assertEquals("<s>", sp.piece(1));
        assertEquals("</s>", sp.piece(2));
        assertEquals("<unk>", sp.piece(3));
        assertEquals(SentencePieceModel.Type.CONTROL, sp.type(0));
        assertEquals(SentencePieceModel.Type.CONTROL, sp.type(1));
        assertEquals(SentencePieceModel.Type.CONTROL, sp.type(2));
        assertEquals(SentencePieceModel.Type.UNKNOWN, sp.type(3));
        int bytes = 0;
        for (int id = 0; id < sp.size(); id++) {
            SentencePieceModel.Piece p = sp.pieces().get(id);
            assertTrue(Float.isFinite(p.score()), "score of " + id);
            assertFalse(p.piece().isEmpty(), "piece " + id);
            if (p.type() == SentencePieceModel.Type.BYTE) {
                assertEquals(String.format("<0x%02X>", id - 4), p.piece());
                bytes++;
            }
        }
        assertEquals(256, bytes);
        // the .vocab file's lines 261-264: "▁t -0", "he -1", "▁a -2", "ou -3"
        assertEquals("\u2581t", sp.piece(260));
        assertEquals(SentencePieceModel.Type.NORMAL, sp.type(260));
        assertEquals("he", sp.piece(261));
        assertEquals(-1f, sp.pieces().get(261).score());
        assertEquals("\u2581a", sp.piece(262));
        assertEquals(-3f, sp.pieces().get(263).score());
    }

    @Test
    void refusesAFileThatIsNotAModel() throws Exception {
        Path p = Files.createTempFile("not", ".model");
        try {
            Files.write(p, "hello world, not a protobuf".getBytes(StandardCharsets.UTF_8));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.read(p));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        } finally {
            Files.delete(p);
        }
    }

    // --- wire format, on hand-built messages ---

    static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) {
            o.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }

    static void key(ByteArrayOutputStream o, int field, int type) {
        varint(o, ((long) field << 3) | type);
    }

    static void len(ByteArrayOutputStream o, int field, byte[] b) {
        key(o, field, ProtoReader.LEN);
        varint(o, b.length);
        o.writeBytes(b);
    }

    static void fixed32(ByteArrayOutputStream o, int field, int bits) {
        key(o, field, ProtoReader.FIXED32);
        for (int i = 0; i < 4; i++) o.write(bits >>> (8 * i));
    }

    static byte[] piece(String s, float score, int type) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        len(p, 1, s.getBytes(StandardCharsets.UTF_8));
        fixed32(p, 2, Float.floatToIntBits(score));
        if (type > 0) {
            key(p, 3, ProtoReader.VARINT);
            varint(p, type);
        }
        return p.toByteArray();
    }

    @Test
    void wireTypesNestingAndSkippedFields() {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        key(m, 15, ProtoReader.VARINT); // unknown varint field, multi-byte value
        varint(m, 300);
        len(m, 1, piece("\u2581hello", -1.5f, 0)); // type absent: NORMAL
        key(m, 9, ProtoReader.FIXED64); // unknown fixed64
        for (int i = 0; i < 8; i++) m.write(i);
        len(m, 1, piece("<0x41>", 0f, 6));
        len(m, 2, piece("nested trainer spec is skipped", 1f, 1));
        fixed32(m, 7, 42);
        len(m, 1, piece("<unk>", 0f, 2));
        SentencePieceModel sp = SentencePieceModel.parse(m.toByteArray());
        assertEquals(3, sp.size());
        assertEquals("\u2581hello", sp.piece(0));
        assertEquals(-1.5f, sp.pieces().get(0).score());
        assertEquals(SentencePieceModel.Type.NORMAL, sp.type(0));
        assertEquals(SentencePieceModel.Type.BYTE, sp.type(1));
        assertEquals(SentencePieceModel.Type.UNKNOWN, sp.type(2));

        ProtoReader r = new ProtoReader(m.toByteArray());
        assertTrue(r.next());
        assertEquals(15, r.field());
        assertEquals(300, r.varintValue());
        assertTrue(r.next());
        assertEquals(1, r.field());
        assertTrue(r.next()); // field 1's value skipped without being read
        assertEquals(9, r.field());
        assertEquals(0x0706050403020100L, r.fixed64());
    }

    @Test
    void malformedInputNamesTheOffset() {
        byte[] truncatedVarint = {(byte) 0x08, (byte) 0x80};
        ProtoReader r = new ProtoReader(truncatedVarint);
        assertTrue(r.next());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::varintValue);
        assertTrue(e.getMessage().contains("byte 1"), e.getMessage());

        byte[] longLength = {(byte) 0x0A, (byte) 0x05, 'a', 'b'};
        ProtoReader r2 = new ProtoReader(longLength);
        assertTrue(r2.next());
        assertThrows(IllegalArgumentException.class, r2::string);

        byte[] group = {(byte) 0x0B}; // field 1, wire type 3 (start group)
        assertThrows(IllegalArgumentException.class, () -> new ProtoReader(group).next());

        byte[] shortFixed = {(byte) 0x15, 1, 2};
        ProtoReader r3 = new ProtoReader(shortFixed);
        assertTrue(r3.next());
        assertThrows(IllegalArgumentException.class, r3::fixed32);

        assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.parse(new byte[0]));
    }
}
