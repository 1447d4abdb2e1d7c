package dev.mixlab.data;

/**
 * A problem with training or evaluation data that the researcher must fix (a missing file, a
 * corrupt shard, a token id outside the vocabulary, too little data for one window).
 *
 * <p>The message is always ONE line: {@code <file>: <what is wrong>; <how to fix it>}, so the
 * command line can print it as is, with no stack trace.
 */
public final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param where   the file (or glob, or source description) the problem is about
     * @param problem what is wrong
     * @param fix     what the researcher should do about it
     */
    public DataException(String where, String problem, String fix) {
        super(oneLine(where + ": " + problem + "; " + fix));
    }

    /** Same, keeping the low-level cause (an I/O error) for debugging. */
    public DataException(String where, String problem, String fix, Throwable cause) {
        super(oneLine(where + ": " + problem + "; " + fix), cause);
    }

    // File names or OS messages may contain line breaks; the one-line promise must hold anyway.
    private static String oneLine(String s) {
        return s.replace('\r', ' ').replace('\n', ' ');
    }
}
