package dev.mixlab.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * UTF-8 for Java strings, generalized so that every string round-trips: an unpaired surrogate
 * (which strict UTF-8 cannot express) is written as the 3-byte sequence its code unit would have
 * ({@code ED A0..BF 80..BF}, as WTF-8 does), and decoded back to the same lone code unit.
 * Decoding never fails: each byte that does not start a well-formed sequence becomes U+FFFD.
 */
public final class Utf8 {
    private Utf8() {}

    /** The generalized UTF-8 bytes of {@code s}. */
    public static byte[] encode(CharSequence s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 16);
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(++i));
            }
            if (cp < 0x80) {
                out.write(cp);
            } else if (cp < 0x800) {
                out.write(0xC0 | cp >> 6);
                out.write(0x80 | cp & 0x3F);
            } else if (cp < 0x10000) { // includes lone surrogates D800..DFFF
                out.write(0xE0 | cp >> 12);
                out.write(0x80 | cp >> 6 & 0x3F);
                out.write(0x80 | cp & 0x3F);
            } else {
                out.write(0xF0 | cp >> 18);
                out.write(0x80 | cp >> 12 & 0x3F);
                out.write(0x80 | cp >> 6 & 0x3F);
                out.write(0x80 | cp & 0x3F);
            }
        }
        return out.toByteArray();
    }

    /** Decodes {@code b[0..len)}; see the class comment for what happens to bad bytes. */
    public static String decode(byte[] b, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = 0;
        while (i < len) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            int need;
            int cp;
            int min;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1; cp = b0 & 0x1F; min = 0x80;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2; cp = b0 & 0x0F; min = 0x800;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3; cp = b0 & 0x07; min = 0x10000;
            } else {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            boolean ok = true;
            for (int k = 1; k <= need; k++) {
                if (i + k >= len || (b[i + k] & 0xC0) != 0x80) {
                    ok = false;
                    break;
                }
                cp = cp << 6 | (b[i + k] & 0x3F);
            }
            if (!ok || cp < min || cp > 0x10FFFF) {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            sb.appendCodePoint(cp); // a lone surrogate appends its code unit
            i += need + 1;
        }
        return sb.toString();
    }

    /** Decodes all of {@code b}. */
    public static String decode(byte[] b) {
        return decode(b, b.length);
    }
}
