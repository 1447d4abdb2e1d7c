package dev.mixlab.tokenizer;

/** One token per (generalized) UTF-8 byte: vocabulary 256, id = byte value. */
public final class ByteTokenizer implements Tokenizer {
    /** The one instance. */
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    @Override
    public String kind() {
        return "byte";
    }

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] b = Utf8.encode(text);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xFF;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < 256) {
                b[n++] = (byte) id;
            } else { // not a byte: flush what came before, then the replacement character
                sb.append(Utf8.decode(b, n)).append('\uFFFD');
                n = 0;
            }
        }
        return sb.append(Utf8.decode(b, n)).toString();
    }

    @Override
    public String toJson() {
        return Tokenizers.header(kind(), vocabSize()) + "\n}\n";
    }
}
