package dev.mixlab.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Learns byte-level BPE merges. Feed it text with {@link #add}; it keeps only the distinct chunks
 * ({@link PreSplit}) and how often each occurs, so memory grows with the vocabulary of words, not
 * the corpus. {@link #train} then repeatedly merges the most frequent adjacent pair, counted over
 * the distinct chunks weighted by frequency; ties go to the pair with the lowest first id, then
 * the lowest second id. The result depends only on the multiset of chunks: the same text gives
 * the same merges, in any order of {@code add} calls and on any machine.
 *
 * <p>Pair counts are updated incrementally: a merge only revisits the chunks that contain its
 * pair (an index from pair to chunks), and a max-heap with lazy deletion finds the next pair.
 */
public final class BpeTrainer {
    private final Map<String, long[]> chunkCounts = new HashMap<>();

    /** Counts the chunks of {@code text}. */
    public void add(String text) {
        PreSplit.split(text, c -> chunkCounts.computeIfAbsent(c, k -> new long[1])[0]++);
    }

    /** Number of distinct chunks seen so far. */
    public int distinctChunks() {
        return chunkCounts.size();
    }

    private static final class Pair {
        long count;
        int[] words = new int[4];
        int nWords;

        void addWord(int w) {
            if (nWords > 0 && words[nWords - 1] == w) {
                return;
            }
            if (nWords == words.length) {
                words = java.util.Arrays.copyOf(words, nWords * 2);
            }
            words[nWords++] = w;
        }
    }

    private final Map<Long, Pair> pairs = new HashMap<>();
    private final Set<Long> dirty = new HashSet<>();

    private void change(int a, int b, long delta, int word) {
        long key = BpeTokenizer.key(a, b);
        Pair p = pairs.computeIfAbsent(key, k -> new Pair());
        p.count += delta;
        if (delta > 0) {
            p.addWord(word);
        }
        dirty.add(key);
    }

    /**
     * Learns merges until the vocabulary has {@code vocabSize} ids, or until no adjacent pair is
     * left to merge (then the vocabulary is smaller than asked; the caller can tell from
     * {@link BpeTokenizer#vocabSize()}).
     *
     * @param vocabSize wanted vocabulary, at least 256
     * @param progress  told after each merge
     */
    public BpeTokenizer train(int vocabSize, Progress progress) {
        if (vocabSize < 256) {
            throw new IllegalArgumentException("BPE vocabulary must be at least 256, got " + vocabSize);
        }
        List<String> keys = new ArrayList<>(chunkCounts.keySet());
        keys.sort(null); // fixed order, so word indices (and nothing observable) depend on hashing
        int nw = keys.size();
        int[][] words = new int[nw][];
        int[] lens = new int[nw];
        long[] freq = new long[nw];
        pairs.clear();
        for (int w = 0; w < nw; w++) {
            byte[] b = Utf8.encode(keys.get(w));
            words[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                words[w][i] = b[i] & 0xFF;
            }
            lens[w] = b.length;
            freq[w] = chunkCounts.get(keys.get(w))[0];
            for (int i = 0; i + 1 < b.length; i++) {
                change(words[w][i], words[w][i + 1], freq[w], w);
            }
        }
        // max count first; among equal counts the smallest key, i.e. lowest (a, b)
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0]
                ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        pushDirty(heap);
        int wanted = vocabSize - 256;
        List<int[]> merges = new ArrayList<>(wanted);
        progress.update(0, wanted);
        int[] stamp = new int[nw];
        java.util.Arrays.fill(stamp, -1);
        while (merges.size() < wanted) {
            long[] top = heap.poll();
            if (top == null) {
                break; // nothing left to merge
            }
            Pair p = pairs.get(top[1]);
            if (p == null || p.count != top[0] || p.count <= 0) {
                continue; // stale entry
            }
            int a = (int) (top[1] >>> 32), b = (int) top[1];
            int k = merges.size();
            int c = 256 + k;
            merges.add(new int[] {a, b});
            for (int j = 0; j < p.nWords; j++) {
                int w = p.words[j];
                if (stamp[w] == k) {
                    continue;
                }
                stamp[w] = k;
                mergeWord(words[w], lens, w, a, b, c, freq[w]);
            }
            pairs.remove(top[1]);
            dirty.remove(top[1]);
            pushDirty(heap);
            progress.update(merges.size(), wanted);
        }
        return new BpeTokenizer(merges.toArray(new int[0][]));
    }

    // Merges every (a, b) in word w, left to right, updating the counts of the neighbouring pairs.
    private void mergeWord(int[] ws, int[] lens, int w, int a, int b, int c, long f) {
        int n = lens[w];
        int out = 0;
        for (int i = 0; i < n; ) {
            if (i + 1 < n && ws[i] == a && ws[i + 1] == b) {
                if (out > 0) {
                    int left = ws[out - 1];
                    change(left, a, -f, w);
                    change(left, c, f, w);
                }
                if (i + 2 < n) {
                    int right = ws[i + 2];
                    change(b, right, -f, w);
                    change(c, right, f, w);
                }
                change(a, b, -f, w);
                ws[out++] = c;
                i += 2;
            } else {
                ws[out++] = ws[i++];
            }
        }
        lens[w] = out;
    }

    private void pushDirty(PriorityQueue<long[]> heap) {
        for (long key : dirty) {
            Pair p = pairs.get(key);
            if (p == null) {
                continue;
            }
            if (p.count > 0) {
                heap.add(new long[] {p.count, key});
            } else {
                pairs.remove(key); // pairs of old ids never come back once gone
            }
        }
        dirty.clear();
    }
}
