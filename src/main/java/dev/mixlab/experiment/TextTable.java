package dev.mixlab.experiment;

import java.util.ArrayList;
import java.util.List;

/** A text table with columns padded to their widest cell; numbers (and "—") are right-aligned. */
public final class TextTable {
    private final List<String[]> rows = new ArrayList<>();

    public TextTable(String... header) {
        rows.add(header);
    }

    public void add(String... cells) {
        rows.add(cells);
    }

    public int size() {
        return rows.size() - 1;
    }

    public String render() {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        boolean[] right = new boolean[cols];
        java.util.Arrays.fill(right, true);
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], r[i].length());
        }
        for (int r = 1; r < rows.size(); r++) {
            for (int i = 0; i < cols; i++) {
                if (!rows.get(r)[i].matches("[-+−±0-9.,:eE%×()\\[\\] /sdhm—]*")) right[i] = false;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                String c = r[i];
                String pad = " ".repeat(w[i] - c.length());
                line.append(right[i] ? pad + c : c + pad);
                if (i + 1 < cols) line.append("  ");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
