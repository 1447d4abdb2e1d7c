package dev.mixlab.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE: text is cut into chunks ({@link PreSplit}), each chunk's generalized UTF-8
 * bytes start as ids 0..255, and the merges are applied in the order they were learned (merge
 * {@code k} joins the pair {@code (a, b)} into id {@code 256 + k}). Decoding joins the bytes of
 * the ids and decodes them as UTF-8.
 */
public final class BpeTokenizer implements Tokenizer {
    private static final int CACHE_LIMIT = 1 << 16;

    private final int[][] merges;   // merges[k] = {a, b} -> id 256 + k
    private final byte[][] tokens;  // id -> bytes
    private final Map<Long, Integer> rank = new HashMap<>(); // pair key -> merged id
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param merges the merges in the order learned; each pair's ids must exist before it
     * @throws IllegalArgumentException if a merge names an id not yet defined
     */
    public BpeTokenizer(int[][] merges) {
        this.merges = new int[merges.length][];
        this.tokens = new byte[256 + merges.length][];
        for (int i = 0; i < 256; i++) {
            tokens[i] = new byte[] {(byte) i};
        }
        for (int k = 0; k < merges.length; k++) {
            int a = merges[k][0], b = merges[k][1], id = 256 + k;
            if (merges[k].length != 2 || a < 0 || b < 0 || a >= id || b >= id) {
                throw new IllegalArgumentException("merge " + k + " [" + a + ", " + b
                        + "] names an id that is not defined before id " + id);
            }
            this.merges[k] = new int[] {a, b};
            byte[] t = new byte[tokens[a].length + tokens[b].length];
            System.arraycopy(tokens[a], 0, t, 0, tokens[a].length);
            System.arraycopy(tokens[b], 0, t, tokens[a].length, tokens[b].length);
            tokens[id] = t;
            rank.putIfAbsent(key(a, b), id);
        }
    }

    static long key(int a, int b) {
        return (long) a << 32 | b;
    }

    /** The merges, in order. */
    public int[][] merges() {
        int[][] out = new int[merges.length][];
        for (int k = 0; k < merges.length; k++) {
            out[k] = merges[k].clone();
        }
        return out;
    }

    /** The bytes id {@code id} stands for. */
    public byte[] bytes(int id) {
        return tokens[id].clone();
    }

    @Override
    public String kind() {
        return "bpe";
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 8);
        PreSplit.split(text, chunk -> out.addAll(encodeChunk(chunk)));
        return out.toArray();
    }

    private int[] encodeChunk(String chunk) {
        int[] hit = cache.get(chunk);
        if (hit != null) {
            return hit;
        }
        byte[] b = Utf8.encode(chunk);
        int[] w = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            w[i] = b[i] & 0xFF;
        }
        int n = w.length;
        while (n > 1) {
            int best = Integer.MAX_VALUE; // lowest merged id = earliest merge
            for (int i = 0; i + 1 < n; i++) {
                Integer r = rank.get(key(w[i], w[i + 1]));
                if (r != null && r < best) {
                    best = r;
                }
            }
            if (best == Integer.MAX_VALUE) {
                break;
            }
            int a = merges[best - 256][0], c = merges[best - 256][1];
            int out = 0;
            for (int i = 0; i < n; ) {
                if (i + 1 < n && w[i] == a && w[i + 1] == c) {
                    w[out++] = best;
                    i += 2;
                } else {
                    w[out++] = w[i++];
                }
            }
            n = out;
        }
        int[] ids = java.util.Arrays.copyOf(w, n);
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear();
        }
        cache.put(chunk, ids);
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(ids.length * 4);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id >= 0 && id < tokens.length) {
                b.writeBytes(tokens[id]);
            } else {
                byte[] done = b.toByteArray();
                sb.append(Utf8.decode(done)).append('\uFFFD');
                b.reset();
            }
        }
        return sb.append(Utf8.decode(b.toByteArray())).toString();
    }

    @Override
    public String toJson() {
        StringBuilder sb = new StringBuilder(Tokenizers.header(kind(), vocabSize()));
        sb.append(",\n  \"pre_split\": \"").append(PreSplit.RULE).append("\",\n  \"merges\": [");
        for (int k = 0; k < merges.length; k++) {
            sb.append(k % 8 == 0 ? "\n    " : " ").append('[').append(merges[k][0]).append(", ")
                    .append(merges[k][1]).append(']');
            if (k + 1 < merges.length) {
                sb.append(',');
            }
        }
        sb.append(merges.length > 0 ? "\n  ]" : "]").append(",\n  \"tokens\": [");
        HexFormat hex = HexFormat.of();
        for (int id = 0; id < tokens.length; id++) {
            sb.append(id % 8 == 0 ? "\n    " : " ").append('"').append(hex.formatHex(tokens[id])).append('"');
            if (id + 1 < tokens.length) {
                sb.append(',');
            }
        }
        return sb.append("\n  ]\n}\n").toString();
    }

    /** A growable int array. */
    static final class IntList {
        int[] a;
        int n;

        IntList(int cap) {
            a = new int[Math.max(4, cap)];
        }

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = java.util.Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int last() {
            return a[n - 1];
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
