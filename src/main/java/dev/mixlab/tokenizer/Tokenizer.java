package dev.mixlab.tokenizer;

/** Text to token ids and back. */
public interface Tokenizer {
    int vocabSize();

    int[] encode(String text);

    String decode(int[] ids);
}
