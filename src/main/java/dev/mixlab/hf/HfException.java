package dev.mixlab.hf;

/** A Hugging Face model or export that mixlab cannot map; the message is one line naming the field and the fix. */
public final class HfException extends RuntimeException {
    public HfException(String message) {
        super(message);
    }
}
