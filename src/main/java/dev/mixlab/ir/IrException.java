package dev.mixlab.ir;

/** A malformed IR program: shape or type mismatch, bad arity, use before definition. A bug or a bad model. */
public class IrException extends RuntimeException {
    public IrException(String message) {
        super(message);
    }
}
