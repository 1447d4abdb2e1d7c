package dev.mixlab.experiment;

/** A race that cannot run as asked (configs that cannot be compared, a bad plan); one line with the fix. */
public final class RaceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RaceException(String message) {
        super(message.replace("\r", "\\r").replace("\n", "\\n"));
    }
}
