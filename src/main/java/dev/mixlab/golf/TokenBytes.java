package dev.mixlab.golf;

import dev.mixlab.data.TokenData;
import dev.mixlab.tokenizer.SentencePieceModel;
import java.nio.charset.StandardCharsets;

/**
 * How many bytes of text each predicted token stands for, exactly as the parameter-golf reference
 * trainer's {@code build_sentencepiece_luts} and {@code eval_val} count them (the denominator of
 * {@code val_bpb}). Three tables over {@code max(sp.vocab_size, vocab_size)} ids:
 *
 * <ul>
 *   <li>{@code base}: control, unknown and unused pieces 0; byte pieces ({@code <0xNN>}) 1; any other
 *       piece the UTF-8 length of its text without one leading {@code ▁} (U+2581);</li>
 *   <li>{@code leadingSpace}: the piece (not control/unknown/unused/byte) starts with {@code ▁};</li>
 *   <li>{@code boundary}: control, unknown and unused pieces, and ids beyond the model's pieces.</li>
 * </ul>
 *
 * The bytes of target {@code t} after previous token {@code p} are
 * {@code base[t] + (leadingSpace[t] && !boundary[p] ? 1 : 0)}: the {@code ▁} counts as the one space
 * byte it decodes to, except right after a boundary token such as BOS, where no space is printed.
 */
public final class TokenBytes {
    private final int[] base;
    private final boolean[] leadingSpace;
    private final boolean[] boundary;

    private TokenBytes(int[] base, boolean[] leadingSpace, boolean[] boundary) {
        this.base = base;
        this.leadingSpace = leadingSpace;
        this.boundary = boundary;
    }

    /** The tables of {@code sp} for a model of {@code vocabSize} ids. */
    public static TokenBytes of(SentencePieceModel sp, int vocabSize) {
        int n = Math.max(sp.size(), vocabSize);
        int[] base = new int[n];
        boolean[] lead = new boolean[n];
        boolean[] bound = new boolean[n];
        java.util.Arrays.fill(bound, true);
        for (int id = 0; id < sp.size(); id++) {
            SentencePieceModel.Type type = sp.type(id);
            if (type == SentencePieceModel.Type.CONTROL || type == SentencePieceModel.Type.UNKNOWN
                    || type == SentencePieceModel.Type.UNUSED) {
                continue;
            }
            bound[id] = false;
            if (type == SentencePieceModel.Type.BYTE) {
                base[id] = 1;
                continue;
            }
            String piece = sp.piece(id);
            if (piece.startsWith("\u2581")) {
                lead[id] = true;
                piece = piece.substring(1);
            }
            base[id] = piece.getBytes(StandardCharsets.UTF_8).length;
        }
        return new TokenBytes(base, lead, bound);
    }

    /**
     * The tables of a Hugging Face {@code tokenizer.json} BPE (byte-level or SentencePiece-style), by
     * the same rule: special and unknown tokens are boundaries worth 0 bytes, a leading ▁ is one space
     * byte unless the previous token is a boundary.
     */
    public static TokenBytes of(dev.mixlab.tokenizer.HfTokenizer hf, int vocabSize) {
        int n = Math.max(hf.vocabSize(), vocabSize);
        int[] base = new int[n];
        boolean[] lead = new boolean[n];
        boolean[] bound = new boolean[n];
        java.util.Arrays.fill(bound, true);
        for (int id = 0; id < hf.vocabSize(); id++) {
            int[] f = hf.byteFacts(id);
            base[id] = f[0];
            lead[id] = f[1] == 1;
            bound[id] = f[2] == 1;
        }
        return new TokenBytes(base, lead, bound);
    }

    /** Table size, {@code max(sp.vocab_size, vocab_size)}. */
    public int size() {
        return base.length;
    }

    /** Bytes of {@code target} when it follows {@code prev}. */
    public int bytes(int prev, int target) {
        return base[target] + (leadingSpace[target] && !boundary[prev] ? 1 : 0);
    }

    /** The {@code base} entry of {@code id}. */
    public int base(int id) {
        return base[id];
    }

    /** Whether {@code id} starts with {@code ▁}. */
    public boolean leadingSpace(int id) {
        return leadingSpace[id];
    }

    /** Whether {@code id} is a boundary (control, unknown, unused, or beyond the pieces). */
    public boolean boundary(int id) {
        return boundary[id];
    }

    /** Total bytes of targets {@code tokens[from, to)}, each after its predecessor ({@code from >= 1}). */
    public long count(TokenData tokens, long from, long to) {
        if (from < 1 || to > tokens.size() || from > to) {
            throw new IndexOutOfBoundsException("targets [" + from + ", " + to + ") of " + tokens.size() + " tokens");
        }
        long sum = 0;
        int chunk = 1 << 16;
        int[] buf = new int[chunk + 1];
        for (long s = from; s < to; s += chunk) {
            int len = (int) Math.min(chunk, to - s);
            tokens.copy(s - 1, buf, 0, len + 1);
            for (int i = 0; i < len; i++) sum += bytes(buf[i], buf[i + 1]);
        }
        return sum;
    }
}
