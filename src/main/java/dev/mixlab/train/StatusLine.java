package dev.mixlab.train;

import java.io.PrintStream;

/**
 * One live status line under the scrolling log when the output is a terminal: {@link #update}
 * redraws it in place, {@link #clear} wipes it before a log line is printed above it. When the
 * output is not a terminal (a file, a pipe, CI) it does nothing, so logs hold plain lines only.
 */
final class StatusLine {
    private final PrintStream out;
    private final boolean live;
    private boolean shown;

    StatusLine(PrintStream out, boolean live) {
        this.out = out;
        this.live = live;
    }

    /** Live only on a terminal, and not when {@code MIXLAB_NO_STATUS} is set. */
    static StatusLine of(PrintStream out) {
        java.io.Console c = System.console();
        boolean terminal = c != null && c.isTerminal() && System.getenv("MIXLAB_NO_STATUS") == null;
        return new StatusLine(out, terminal);
    }

    boolean live() {
        return live;
    }

    void update(String text) {
        if (!live) return;
        out.print("\r\033[2K" + text);
        out.flush();
        shown = true;
    }

    void clear() {
        if (!live || !shown) return;
        out.print("\r\033[2K");
        out.flush();
        shown = false;
    }
}
