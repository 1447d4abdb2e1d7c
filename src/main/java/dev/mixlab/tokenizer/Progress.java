package dev.mixlab.tokenizer;

/** Receives progress of a long job: {@code done} of {@code total} units. */
@FunctionalInterface
public interface Progress {
    /** Ignores progress. */
    Progress NONE = (done, total) -> {};

    void update(long done, long total);
}
