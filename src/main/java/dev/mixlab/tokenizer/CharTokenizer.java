package dev.mixlab.tokenizer;

import java.util.Arrays;

/**
 * One token per Unicode code point, the vocabulary being the distinct code points of the text it
 * was built from, sorted (id {@code i} is the {@code i}-th smallest). Unpaired surrogates count as
 * code points of their own, as {@link String#codePoints()} gives them.
 */
public final class CharTokenizer implements Tokenizer {
    private final int[] codePoints; // sorted, distinct

    /** @param codePoints distinct code points in increasing order */
    public CharTokenizer(int[] codePoints) {
        for (int i = 1; i < codePoints.length; i++) {
            if (codePoints[i] <= codePoints[i - 1]) {
                throw new IllegalArgumentException("code points must be distinct and sorted");
            }
        }
        this.codePoints = codePoints.clone();
    }

    /** The code point of each id. */
    public int[] codePoints() {
        return codePoints.clone();
    }

    @Override
    public String kind() {
        return "char";
    }

    @Override
    public int vocabSize() {
        return codePoints.length;
    }

    @Override
    public int[] encode(String text) {
        return text.codePoints().map(cp -> {
            int id = Arrays.binarySearch(codePoints, cp);
            if (id < 0) {
                throw new IllegalArgumentException("character " + describe(cp)
                        + " is not in the char vocabulary (" + codePoints.length + " characters)");
            }
            return id;
        }).toArray();
    }

    /** {@code U+1F600 '😀'}, or just the number for controls and surrogates. */
    static String describe(int cp) {
        String hex = String.format("U+%04X", cp);
        return Character.isISOControl(cp) || Character.getType(cp) == Character.SURROGATE ? hex
                : hex + " '" + new String(Character.toChars(cp)) + "'";
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int id : ids) {
            sb.appendCodePoint(id >= 0 && id < codePoints.length ? codePoints[id] : 0xFFFD);
        }
        return sb.toString();
    }

    @Override
    public String toJson() {
        StringBuilder sb = new StringBuilder(Tokenizers.header(kind(), vocabSize()));
        sb.append(",\n  \"code_points\": [");
        for (int i = 0; i < codePoints.length; i++) {
            sb.append(i % 16 == 0 ? "\n    " : " ").append(codePoints[i]);
            if (i + 1 < codePoints.length) {
                sb.append(',');
            }
        }
        return sb.append("\n  ]\n}\n").toString();
    }
}
