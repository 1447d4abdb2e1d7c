package dev.mixlab.config;

import java.util.Collection;
import java.util.Map;

/** "Did you mean" suggestions by Damerau (optimal string alignment) edit distance. */
final class Suggest {
    private Suggest() {}

    /** Largest edit distance still worth suggesting. */
    static final int MAX_DISTANCE = 3;

    /** @return the OSA distance: insertions, deletions, substitutions and adjacent swaps */
    static int distance(String a, String b) {
        int n = a.length(), m = b.length();
        int[][] d = new int[n + 1][m + 1];
        for (int i = 0; i <= n; i++) d[i][0] = i;
        for (int j = 0; j <= m; j++) d[0][j] = j;
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= m; j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int v = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    v = Math.min(v, d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        return d[n][m];
    }

    /** @return the closest candidate regardless of distance (first wins ties); null if none */
    static String closest(String word, Collection<String> candidates) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        String w = word.toLowerCase(java.util.Locale.ROOT);
        for (String c : candidates) {
            int d = distance(w, c);
            if (d < bestD) { best = c; bestD = d; }
        }
        return best;
    }

    /**
     * @param spellings each accepted spelling (keys and their aliases) mapped to the key it suggests
     * @return the key whose spelling is close enough to {@code word} to be a likely typo, or null
     */
    static String near(String word, Map<String, String> spellings) {
        String w = word.toLowerCase(java.util.Locale.ROOT);
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (var e : spellings.entrySet()) {
            int d = distance(w, e.getKey());
            // Short words are all close to each other; only suggest when at most half the word changed.
            if (d <= MAX_DISTANCE && d * 2 <= Math.max(w.length(), e.getKey().length()) && d < bestD) {
                best = e.getValue();
                bestD = d;
            }
        }
        return best;
    }
}
