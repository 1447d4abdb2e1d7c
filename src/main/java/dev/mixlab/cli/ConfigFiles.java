package dev.mixlab.cli;

import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a config and resolves the data paths it names relative to the config file's folder. */
final class ConfigFiles {
    private ConfigFiles() {}

    static Config load(Path file) {
        return ConfigLoader.load(file);
    }

    /** A data path from the config: relative paths are taken from the config file's folder. */
    static String resolveFromConfig(Path configFile, String path) {
        if (path == null) return null;
        Path p = Path.of(path);
        if (p.isAbsolute()) return path;
        Path dir = configFile.toAbsolutePath().getParent();
        Path cand = dir.resolve(path).normalize();
        String rel = Path.of("").toAbsolutePath().relativize(cand).toString();
        // keep globs working: resolve the literal prefix, leave wildcards as they are
        return Files.exists(cand) || path.contains("*") || path.contains("?") ? rel : path;
    }
}
