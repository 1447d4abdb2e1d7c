package dev.mixlab.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The vocabulary of a SentencePiece {@code .model} file, read without a protobuf dependency. The
 * file is a serialized {@code ModelProto}; only its field 1 (repeated {@code SentencePiece}: field 1
 * {@code piece} string, field 2 {@code score} float, field 3 {@code type} enum, default NORMAL) is
 * read; the trainer, normalizer and denormalizer specs are skipped. Token id = index in the list.
 *
 * <p>This is enough for the byte counts behind {@code val_bpb} ({@link dev.mixlab.golf.TokenBytes});
 * it does not encode text (SentencePiece's normalizer and segmentation are not implemented).
 */
public final class SentencePieceModel {
    /** {@code SentencePiece.Type} of sentencepiece_model.proto. */
    public enum Type {
        NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

        final int code;

        Type(int code) {
            this.code = code;
        }

        static Type of(long code, String where) {
            for (Type t : values()) if (t.code == code) return t;
            throw new IllegalArgumentException(where + ": unknown piece type " + code);
        }
    }

    /** One vocabulary entry. */
    public record Piece(String piece, float score, Type type) {}

    private final List<Piece> pieces;

    private SentencePieceModel(List<Piece> pieces) {
        this.pieces = List.copyOf(pieces);
    }

    /** Reads a {@code .model} file. @throws IllegalArgumentException naming the file when malformed */
    public static SentencePieceModel read(Path file) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read SentencePiece model " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not a SentencePiece model (" + e.getMessage() + ")", e);
        }
    }

    /** Parses the bytes of a serialized {@code ModelProto}. */
    public static SentencePieceModel parse(byte[] bytes) {
        List<Piece> out = new ArrayList<>();
        ProtoReader r = new ProtoReader(bytes);
        while (r.next()) {
            if (r.field() == 1 && r.wireType() == ProtoReader.LEN) {
                ProtoReader p = r.message();
                String piece = "";
                float score = 0f;
                Type type = Type.NORMAL;
                while (p.next()) {
                    switch (p.field()) {
                        case 1 -> piece = p.string();
                        case 2 -> score = p.fixed32Float();
                        case 3 -> type = Type.of(p.varintValue(), "piece " + out.size());
                        default -> p.skip();
                    }
                }
                out.add(new Piece(piece, score, type));
            } else {
                r.skip();
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no pieces (field 1 of ModelProto)");
        return new SentencePieceModel(out);
    }

    /** A model of the given pieces (for tests and hand-made vocabularies). */
    public static SentencePieceModel of(List<Piece> pieces) {
        return new SentencePieceModel(pieces);
    }

    /** Number of pieces ({@code sp.vocab_size()}). */
    public int size() {
        return pieces.size();
    }

    /** The pieces, by id. */
    public List<Piece> pieces() {
        return pieces;
    }

    /** The piece string of {@code id} ({@code sp.id_to_piece}). */
    public String piece(int id) {
        return pieces.get(id).piece();
    }

    /** The type of {@code id}. */
    public Type type(int id) {
        return pieces.get(id).type();
    }
}
