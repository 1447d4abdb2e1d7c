package dev.mixlab.golf;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.tokenizer.HfTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bits per byte with a Hugging Face tokenizer.json: the byte counts of the tokens of any text add up
 * to the text's UTF-8 length (the property val_bpb relies on).
 */
class HfTokenBytesTest {
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "qwen2", "mistral"})
    void tokenBytesSumToTheTextsUtf8Length(String family) {
        Path f = Path.of("src/test/resources/hf/" + family + "/tokenizer.json");
        Assumptions.assumeTrue(Files.exists(f), "no " + f);
        HfTokenizer tok = HfTokenizer.load(f);
        TokenBytes tb = TokenBytes.of(tok, tok.vocabSize());
        int checked = 0;
        for (String text : new String[] {"Hello world, how are you?", "naïve café — 日本語 🙂 tabs\tand\nlines", "  two  spaces"}) {
            int[] ids = tok.encode(text);
            if (!tok.decode(ids).equals(text)) continue;   // a lossy normaliser: the byte identity cannot hold
            long sum = 0;
            int prev = -1;
            for (int id : ids) {
                sum += prev < 0 ? tb.base(id) : tb.bytes(prev, id);
                prev = id;
            }
            assertEquals(text.getBytes(StandardCharsets.UTF_8).length, sum, family + ": " + text);
            checked++;
        }
        assertTrue(checked >= 1, family + ": no text round-tripped exactly");
    }
}
