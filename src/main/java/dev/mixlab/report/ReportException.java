package dev.mixlab.report;

/** A report input that cannot be read; the message is one line that names the path and the fix. */
public final class ReportException extends RuntimeException {
    public ReportException(String message) {
        super(message);
    }
}
