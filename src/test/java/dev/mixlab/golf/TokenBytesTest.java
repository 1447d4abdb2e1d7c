package dev.mixlab.golf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.data.TokenData;
import dev.mixlab.tokenizer.SentencePieceModel;
import dev.mixlab.tokenizer.SentencePieceModel.Piece;
import dev.mixlab.tokenizer.SentencePieceModel.Type;
import dev.mixlab.train.ValEval;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The val_bpb byte tables: a hand-made vocabulary with known answers, and the Python golden. */
class TokenBytesTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/sp_bpb.json");
    static final Path MODEL = Path.of("src/test/resources/sp/shakespeare_1024_bpe.model");

    static TokenData tokens(int... ids) {
        return new TokenData() {
            public long size() {
                return ids.length;
            }

            public int get(long i) {
                return ids[(int) i];
            }

            public String describe() {
                return "test tokens";
            }
        };
    }

    static final SentencePieceModel HAND = SentencePieceModel.of(List.of(
            new Piece("<pad>", 0, Type.CONTROL),        // 0: boundary, 0 bytes
            new Piece("<s>", 0, Type.CONTROL),          // 1: boundary, 0 bytes
            new Piece("<unk>", 0, Type.UNKNOWN),        // 2: boundary, 0 bytes
            new Piece("<0x41>", 0, Type.BYTE),          // 3: 1 byte
            new Piece("\u2581the", -1, Type.NORMAL),    // 4: 3 bytes + leading space
            new Piece("cat", -2, Type.NORMAL),          // 5: 3 bytes
            new Piece("\u2581", -3, Type.NORMAL),       // 6: 0 bytes + leading space
            new Piece("\u00e9", -4, Type.NORMAL),       // 7: 2 bytes (UTF-8)
            new Piece("\u2581\u2603", -5, Type.NORMAL), // 8: 3 bytes + leading space
            new Piece("xx", 0, Type.UNUSED),            // 9: boundary, 0 bytes
            new Piece("<user>", 0, Type.USER_DEFINED))); // 10: 6 bytes, like a normal piece

    @Test
    void handMadeVocabulary() {
        TokenBytes t = TokenBytes.of(HAND, 12); // id 11: beyond the pieces, a boundary of 0 bytes
        assertEquals(12, t.size());
        int[] base = {0, 0, 0, 1, 3, 3, 0, 2, 3, 0, 6, 0};
        boolean[] lead = {false, false, false, false, true, false, true, false, true, false, false, false};
        boolean[] boundary = {true, true, true, false, false, false, false, false, false, true, false, true};
        for (int id = 0; id < 12; id++) {
            assertEquals(base[id], t.base(id), "base " + id);
            assertEquals(lead[id], t.leadingSpace(id), "leading space " + id);
            assertEquals(boundary[id], t.boundary(id), "boundary " + id);
        }
        int[] seq = {1, 4, 5, 4, 3, 6, 8, 7, 2, 4, 11, 8, 10};
        int[] want = {3, 3, 4, 1, 1, 4, 2, 0, 3, 0, 3, 6}; // "the" after BOS has no space; " the" after "cat" has
        for (int i = 1; i < seq.length; i++) assertEquals(want[i - 1], t.bytes(seq[i - 1], seq[i]), "target " + i);
        assertEquals(30, t.count(tokens(seq), 1, seq.length));
        assertEquals(3 + 3 + 4, t.count(tokens(seq), 1, 4));
        assertEquals(4, t.count(tokens(seq), 3, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> t.count(tokens(seq), 0, 4));
        // 12 targets at 1 bit each over 30 bytes
        assertEquals(12.0 / 30.0, ValEval.bpb(Math.log(2), 12, 30), 1e-15);
        // a smaller model vocabulary than the pieces keeps every piece (table = max of the two)
        assertEquals(11, TokenBytes.of(HAND, 4).size());
    }

    @Test
    void committedModelTablesLookRight() {
        TokenBytes t = TokenBytes.of(SentencePieceModel.read(MODEL), 1024);
        assertTrue(t.boundary(0) && t.boundary(1) && t.boundary(2) && t.boundary(3));
        for (int id = 4; id < 260; id++) {
            assertEquals(1, t.base(id), "byte piece " + id);
            assertFalse(t.boundary(id));
        }
        assertEquals(1, t.base(260)); // "▁t"
        assertTrue(t.leadingSpace(260));
        assertEquals(2, t.base(261)); // "he"
        assertEquals(1, t.bytes(1, 260)); // "▁t" after BOS: "t"
        assertEquals(2, t.bytes(260, 260)); // "▁t" after "▁t": " t"
        assertEquals(2, t.bytes(260, 261)); // "he"
    }

    @Test
    void matchesThePythonGolden() throws Exception {
        if (!Files.exists(GOLDEN)) {
            System.err.println("TokenBytesTest: " + GOLDEN + " absent; run reference/sp_bpb_and_int8.py (needs sentencepiece) to check val_bpb byte counts");
            Assumptions.abort(GOLDEN + " absent");
        }
        JsonNode g = new ObjectMapper().readTree(GOLDEN.toFile());
        SentencePieceModel sp = SentencePieceModel.read(MODEL);
        assertEquals(g.get("sp_vocab_size").asInt(), sp.size());
        for (int id = 0; id < sp.size(); id++) assertEquals(g.get("pieces").get(id).asText(), sp.piece(id), "piece " + id);
        TokenBytes t = TokenBytes.of(sp, g.get("vocab_size").asInt());
        for (int id = 0; id < t.size(); id++) {
            assertEquals(g.get("base_bytes").get(id).asInt(), t.base(id), "base " + id);
            assertEquals(g.get("has_leading_space").get(id).asInt() == 1, t.leadingSpace(id), "leading space " + id);
            assertEquals(g.get("is_boundary").get(id).asInt() == 1, t.boundary(id), "boundary " + id);
        }
        JsonNode tok = g.get("tokens");
        int[] ids = new int[tok.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = tok.get(i).asInt();
        for (int i = 1; i < ids.length; i++) {
            assertEquals(g.get("target_bytes").get(i - 1).asInt(), t.bytes(ids[i - 1], ids[i]), "target " + i);
        }
        long total = t.count(tokens(ids), 1, ids.length);
        assertEquals(g.get("total_bytes").asLong(), total);
        assertEquals(g.get("example_bpb").asDouble(), ValEval.bpb(g.get("example_loss").asDouble(), ids.length - 1, total), 1e-15);
    }
}
