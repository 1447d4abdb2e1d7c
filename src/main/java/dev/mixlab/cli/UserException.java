package dev.mixlab.cli;

/** A mistake in how mixlab was invoked; its message is one line that says what to do. */
final class UserException extends RuntimeException {
    UserException(String message) {
        super(message);
    }
}
