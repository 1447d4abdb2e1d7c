package dev.mixlab.io;

/**
 * A safetensors file that cannot be read or written. The message is ONE line that starts with
 * the file path and, where it is about one tensor, names it.
 */
public final class SafetensorsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param file the file path; @param problem what is wrong (one line) */
    public SafetensorsException(String file, String problem) {
        super(oneLine(file + ": " + problem));
    }

    /** Same, keeping the low-level cause for debugging. */
    public SafetensorsException(String file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
    }

    private static String oneLine(String s) {
        return s.replace('\r', ' ').replace('\n', ' ');
    }
}
