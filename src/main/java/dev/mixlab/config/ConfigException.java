package dev.mixlab.config;

/**
 * A config file that cannot be loaded. The message is always one line:
 * {@code <file>: <json pointer>: <problem>; <fix>} (the pointer part is left out when the
 * problem is not tied to one place, e.g. a missing file).
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String path;
    private final String problem;
    private final String fix;

    /**
     * @param file    the config file name as the user gave it
     * @param path    JSON pointer of the offending value, or "" when not tied to one place
     * @param problem what is wrong
     * @param fix     how to fix it
     */
    public ConfigException(String file, String path, String problem, String fix) {
        super(format(file, path, problem, fix));
        this.file = file;
        this.path = path;
        this.problem = problem;
        this.fix = fix;
    }

    private static String format(String file, String path, String problem, String fix) {
        StringBuilder sb = new StringBuilder(file);
        if (!path.isEmpty()) sb.append(": ").append(path);
        sb.append(": ").append(problem);
        if (fix != null && !fix.isEmpty()) sb.append("; ").append(fix);
        // One line no matter what the user wrote in keys or values.
        return sb.toString().replace("\r", "\\r").replace("\n", "\\n");
    }

    /** @return the config file name as the user gave it */
    public String file() { return file; }

    /** @return JSON pointer (RFC 6901) of the offending value, or "" when not tied to one place */
    public String path() { return path; }

    /** @return what is wrong, without file, pointer or fix */
    public String problem() { return problem; }

    /** @return how to fix it */
    public String fix() { return fix; }
}
