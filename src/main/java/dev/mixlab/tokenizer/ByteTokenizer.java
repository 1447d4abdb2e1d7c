package dev.mixlab.tokenizer;

import java.nio.charset.StandardCharsets;

/** Byte-level: each UTF-8 byte is a token (vocab 256), as for plain-text training data. */
public final class ByteTokenizer implements Tokenizer {
    public int vocabSize() {
        return 256;
    }

    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
        return ids;
    }

    /** Invalid UTF-8 (e.g. a sequence cut mid-character) decodes to U+FFFD. */
    public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return new String(b, StandardCharsets.UTF_8);
    }
}
