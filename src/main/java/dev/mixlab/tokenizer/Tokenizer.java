package dev.mixlab.tokenizer;

/**
 * Turns text into token ids and back. Implementations are immutable and safe to share between
 * threads.
 *
 * <p>Text is a Java {@code String}, i.e. UTF-16 that may contain unpaired surrogates. The byte and
 * BPE tokenizers work on its {@link Utf8 generalized UTF-8} bytes, so {@code decode(encode(s))}
 * equals {@code s} for every string; the char tokenizer works on code points and round-trips every
 * string whose code points are in its vocabulary.
 */
public interface Tokenizer {
    /** {@code byte}, {@code char} or {@code bpe}: the {@code kind} field of tokenizer.json. */
    String kind();

    /** Number of ids; every id {@link #encode} returns is below it. */
    int vocabSize();

    /**
     * The ids of {@code text}.
     *
     * @throws IllegalArgumentException if the text holds a character the vocabulary cannot express
     *                                  (only the char tokenizer has such characters)
     */
    int[] encode(String text);

    /**
     * The text of {@code ids}. Never fails: an id outside the vocabulary, or bytes that are not
     * UTF-8 (a model may generate any sequence), become U+FFFD.
     */
    String decode(int[] ids);

    /** The tokenizer.json text (deterministic: the same tokenizer always gives the same bytes). */
    String toJson();
}
