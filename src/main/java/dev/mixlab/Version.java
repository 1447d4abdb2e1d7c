package dev.mixlab;

/** The mixlab version, as the command line and data manifests report it. */
public final class Version {
    /** Semantic version of this build. */
    public static final String VERSION = "0.1.0";

    private Version() {}
}
