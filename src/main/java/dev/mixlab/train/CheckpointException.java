package dev.mixlab.train;

/**
 * A checkpoint or resume problem the researcher must fix (no complete checkpoint, a config that
 * differs from the run's, fewer total steps than already done). The message is ONE line:
 * {@code <file>: <what is wrong>; <how to fix it>}, printed by the CLI with exit code 2.
 */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String where, String problem, String fix) {
        super((where + ": " + problem + "; " + fix).replace('\r', ' ').replace('\n', ' '));
    }
}
