package dev.mixlab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Opens the token data a config names: a file or a glob of token shards or plain-text files.
 *
 * <p>A file whose name ends in {@code .bin}, or that starts with the shard magic number, must be
 * a valid token shard ({@link ShardTokens}); any other file is byte-level text
 * ({@link TextTokens}). A glob may not mix the two kinds.
 */
public final class DataSources {
    private DataSources() {}

    /**
     * Opens {@code globOrFile}, relative to the current directory unless absolute; a directory
     * holding a manifest.json ({@link PreparedData}) gives its train shards. Glob syntax is
     * {@link java.nio.file.FileSystem#getPathMatcher} "glob:" syntax ({@code *}, {@code ?},
     * {@code [..]}, {@code {a,b}}) where {@code **} spans directories and {@code dir/**}{@code /x}
     * also matches {@code dir/x}, as in a shell with globstar. Several matches are concatenated in
     * name order.
     *
     * @param vocabSize the model's vocabulary size; every token id must be below it
     * @throws DataException with a one-line message naming the file and the fix
     */
    public static TokenData open(String globOrFile, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        }
        if (PreparedData.isPrepared(globOrFile)) { // a directory written by mixlab prepare
            return PreparedData.read(Path.of(globOrFile)).train(vocabSize);
        }
        List<Path> files = expand(globOrFile);
        List<TokenData> parts = new ArrayList<>(files.size());
        Path firstShard = null;
        Path firstText = null;
        for (Path f : files) {
            if (isShard(f)) {
                firstShard = firstShard == null ? f : firstShard;
                if (firstText != null) {
                    throw mixed(globOrFile, f, firstText);
                }
                parts.add(ShardTokens.open(f, vocabSize));
            } else {
                firstText = firstText == null ? f : firstText;
                if (firstShard != null) {
                    throw mixed(globOrFile, firstShard, f);
                }
                parts.add(TextTokens.open(f, vocabSize));
            }
        }
        return parts.size() == 1 ? parts.get(0) : new ConcatTokens(globOrFile, parts);
    }

    private static DataException mixed(String glob, Path shard, Path text) {
        return new DataException(glob, "matches both token shards (" + shard
                + ") and plain text (" + text + ")", "narrow the glob to one kind of file");
    }

    // A .bin name promises a shard (so a corrupt shard is reported, not read as text); otherwise
    // the magic number decides.
    private static boolean isShard(Path f) {
        if (f.getFileName().toString().endsWith(".bin")) {
            return true;
        }
        try (var ch = java.nio.channels.FileChannel.open(f)) {
            var buf = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // fill the 4 bytes unless the file is shorter
            }
            return buf.position() == 4 && buf.getInt(0) == ShardTokens.MAGIC;
        } catch (IOException e) {
            throw new DataException(f.toString(), "cannot read the file (" + e + ")",
                    "check that it exists and is readable");
        }
    }

    /**
     * The regular files {@code globOrFile} names, sorted by path; a plain path gives itself.
     *
     * @throws DataException if nothing matches, or a plain path is a directory
     */
    public static List<Path> expand(String globOrFile) {
        String pattern = globOrFile.replace('\\', '/');
        int firstMeta = firstGlobChar(pattern);
        if (firstMeta < 0) {
            Path p = Path.of(globOrFile);
            if (Files.isDirectory(p)) {
                throw new DataException(globOrFile, "is a directory, not a file, and has no "
                        + PreparedData.MANIFEST, "name the files, e.g. '" + pattern.replaceAll("/+$", "")
                        + "/*.bin', or give a directory written by ./mixlab prepare");
            }
            if (!Files.isRegularFile(p)) {
                throw new DataException(globOrFile, "no such file (looked in "
                        + p.toAbsolutePath().normalize() + ")",
                        "check the path (relative paths start at the current directory)");
            }
            return List.of(p);
        }
        // Walk from the last directory before the first wildcard; match the rest of the path.
        int slash = pattern.lastIndexOf('/', firstMeta);
        String baseStr = slash < 0 ? "" : (slash == 0 ? "/" : pattern.substring(0, slash));
        String rest = pattern.substring(slash + 1);
        Path base = Path.of(baseStr);
        List<PathMatcher> matchers = new ArrayList<>();
        for (String variant : globstarVariants(rest)) {
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + variant));
        }
        int depth = rest.contains("**") ? Integer.MAX_VALUE : rest.split("/", -1).length;
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(base)) {
            try (Stream<Path> walk = Files.walk(base, depth)) {
                walk.filter(Files::isRegularFile).forEach(p -> {
                    Path rel = base.relativize(p);
                    for (PathMatcher m : matchers) {
                        if (m.matches(rel)) {
                            out.add(p);
                            return;
                        }
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                throw new DataException(globOrFile, "cannot list " + base.toAbsolutePath()
                        + " (" + e.getMessage() + ")", "check the directory permissions");
            }
        }
        if (out.isEmpty()) {
            throw new DataException(globOrFile, "no file matches '" + globOrFile
                    + "' (searched " + base.toAbsolutePath().normalize() + ")",
                    "check the path or quote the glob");
        }
        out.sort((a, b) -> a.toString().compareTo(b.toString()));
        return out;
    }

    private static int firstGlobChar(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{') {
                return i;
            }
        }
        return -1;
    }

    // Java's "**/" needs at least one directory; a shell's globstar also matches none. Each "**/"
    // may be kept or dropped, so list every combination (patterns have one or two at most).
    static List<String> globstarVariants(String glob) {
        List<String> out = new ArrayList<>();
        out.add(glob);
        for (int i = 0; i < out.size(); i++) {
            String g = out.get(i);
            int from = 0;
            int at;
            while ((at = g.indexOf("**/", from)) >= 0) {
                if (at == 0 || g.charAt(at - 1) == '/') {
                    String dropped = g.substring(0, at) + g.substring(at + 3);
                    if (!out.contains(dropped)) {
                        out.add(dropped);
                    }
                }
                from = at + 3;
            }
        }
        return out;
    }
}
