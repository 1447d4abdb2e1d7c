package dev.mixlab.tokenizer;

import java.util.function.Consumer;

/**
 * Cuts text into chunks that BPE merges never cross (rule {@value #RULE}). Scanning code points
 * left to right, a chunk is one of:
 *
 * <ul>
 *   <li>a run of letters (with combining marks), a run of digits, or a run of other
 *       non-whitespace characters (punctuation, symbols, unpaired surrogates), each optionally
 *       preceded by ONE space (U+0020) that belongs to it, as GPT-2 does ("Hello world" is
 *       {@code "Hello"}, {@code " world"});</li>
 *   <li>a run of whitespace; when such a run ends in a space and a non-whitespace character
 *       follows, that last space is left to prefix the next chunk ({@code "\n  x"} is
 *       {@code "\n "}, {@code " x"}).</li>
 * </ul>
 *
 * The chunks concatenate to the input exactly. There is no special case for contractions
 * ({@code "don't"} is {@code "don"}, {@code "'"}, {@code "t"}).
 */
public final class PreSplit {
    /** Name of the rule, stored in tokenizer.json so a future rule can be told apart. */
    public static final String RULE = "mixlab-words-v1";

    private PreSplit() {}

    private static final int SPACE = 0, LETTER = 1, DIGIT = 2, OTHER = 3;

    static int classOf(int cp) {
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
            return SPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.NON_SPACING_MARK,
                 Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> DIGIT;
            default -> OTHER;
        };
    }

    /** Calls {@code sink} with each chunk of {@code s}, in order. */
    public static void split(String s, Consumer<String> sink) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int start = i;
            if (s.charAt(i) == ' ' && i + 1 < n && classOf(s.codePointAt(i + 1)) != SPACE) {
                i++; // the space joins the chunk that follows
            }
            int cls = classOf(s.codePointAt(i));
            if (cls == SPACE) {
                int j = i;
                while (j < n && classOf(s.codePointAt(j)) == SPACE) {
                    j += Character.charCount(s.codePointAt(j));
                }
                if (j < n && j - i >= 2 && s.charAt(j - 1) == ' ') {
                    j--; // leave the last space to the next word
                }
                i = j;
            } else {
                while (i < n) {
                    int cp = s.codePointAt(i);
                    if (classOf(cp) != cls) {
                        break;
                    }
                    i += Character.charCount(cp);
                }
            }
            sink.accept(s.substring(start, i));
        }
    }
}
