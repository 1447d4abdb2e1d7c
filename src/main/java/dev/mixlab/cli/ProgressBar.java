package dev.mixlab.cli;

import dev.mixlab.tokenizer.Progress;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: a bar redrawn in place when stderr is a terminal, otherwise a plain line
 * at most every 10% (and at the end), so logs stay readable.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String label;
    private final boolean tty;
    private long start = System.nanoTime();
    private long lastDraw;
    private int lastTenth = -1;

    ProgressBar(PrintStream err, String label, boolean tty) {
        this.err = err;
        this.label = label;
        this.tty = tty;
    }

    /**
     * Whether stderr is a terminal. The launcher knows (it tests {@code -t 2} and exports
     * MIXLAB_STDERR_TTY, since it pipes the JVM's stderr through a filter); without the launcher
     * we fall back to the JVM's console check.
     */
    static boolean stderrIsTerminal() {
        String env = System.getenv("MIXLAB_STDERR_TTY");
        if (env != null) {
            return env.equals("1");
        }
        var c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void update(long done, long total) {
        if (done == 0) {
            start = System.nanoTime(); // the job starts now
            if (!tty) {
                return;
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        if (tty) {
            long now = System.nanoTime();
            if (done < total && now - lastDraw < 100_000_000L) {
                return; // redraw at most 10 times a second
            }
            lastDraw = now;
            int filled = total <= 0 ? WIDTH : (int) (WIDTH * done / total);
            err.printf(Locale.ROOT, "\r%s [%s%s] %,d/%,d %.1fs", label, "#".repeat(filled), " ".repeat(WIDTH - filled),
                    done, total, secs);
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else {
            int tenth = total <= 0 ? 10 : (int) (10 * done / total);
            if (tenth > lastTenth && (tenth > 0 || done >= total)) {
                lastTenth = tenth;
                err.printf(Locale.ROOT, "%s: %,d/%,d (%d%%) %.1fs%n", label, done, total, 10 * tenth, secs);
            }
        }
    }
}
