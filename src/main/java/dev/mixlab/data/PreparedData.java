package dev.mixlab.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory written by {@code mixlab prepare}: token shards, tokenizer.json and manifest.json
 * (format in docs/data.md). This class reads what training needs from the manifest: the shards of
 * each split and the vocabulary they were tokenized with.
 *
 * @param dir            the directory
 * @param tokenizerKind  byte, char or bpe
 * @param tokenizerFile  the tokenizer file, resolved against {@code dir}
 * @param vocabSize      vocabulary of the tokenizer; every token id is below it
 * @param trainFiles     train shards in order, resolved against {@code dir}
 * @param trainTokens    tokens in the train shards
 * @param valFiles       val shards (may be empty)
 * @param valTokens      tokens in the val shards
 */
public record PreparedData(Path dir, String tokenizerKind, Path tokenizerFile, int vocabSize,
                           List<Path> trainFiles, long trainTokens, List<Path> valFiles, long valTokens) {
    /** Name of the manifest inside a prepared directory. */
    public static final String MANIFEST = "manifest.json";
    /** Value of the manifest's {@code format} field. */
    public static final String FORMAT = "mixlab-prepared-data";

    /** True when {@code arg} names a directory that holds a manifest.json. */
    public static boolean isPrepared(String arg) {
        if (arg == null || arg.isBlank()) {
            return false;
        }
        try {
            Path p = Path.of(arg);
            return Files.isDirectory(p) && Files.isRegularFile(p.resolve(MANIFEST));
        } catch (java.nio.file.InvalidPathException e) {
            return false; // a glob with characters the OS does not allow in names
        }
    }

    /**
     * Reads {@code dir/manifest.json}.
     *
     * @throws DataException (one line naming manifest.json) if it is missing or malformed
     */
    public static PreparedData read(Path dir) {
        Path file = dir.resolve(MANIFEST);
        String where = file.toString();
        String fix = "prepare the data again with ./mixlab prepare";
        JsonNode m;
        try {
            m = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new DataException(where, "cannot read the manifest (" + e.getMessage() + ")", fix, e);
        }
        if (m == null || !FORMAT.equals(m.path("format").asText())) {
            throw new DataException(where, "not a mixlab data manifest (no \"format\": \"" + FORMAT + "\")", fix);
        }
        int vocab = m.path("vocab_size").asInt(-1);
        if (vocab < 1) {
            throw new DataException(where, "no positive vocab_size", fix);
        }
        JsonNode tok = m.path("tokenizer");
        JsonNode splits = m.path("splits");
        return new PreparedData(dir, tok.path("kind").asText(), dir.resolve(tok.path("file").asText("tokenizer.json")),
                vocab, files(splits.path("train"), dir), splits.path("train").path("tokens").asLong(),
                files(splits.path("val"), dir), splits.path("val").path("tokens").asLong());
    }

    private static List<Path> files(JsonNode split, Path dir) {
        List<Path> out = new ArrayList<>();
        for (JsonNode f : split.path("files")) {
            out.add(dir.resolve(f.asText()));
        }
        return out;
    }

    /** The manifest's path. */
    public Path manifest() {
        return dir.resolve(MANIFEST);
    }

    /**
     * Fails unless a model with {@code vocabSize} can take every id of this data.
     *
     * @throws DataException naming manifest.json and the fix
     */
    public void checkVocab(int vocabSize) {
        if (vocabSize < this.vocabSize) {
            throw new DataException(manifest().toString(), "the data was tokenized with a vocabulary of "
                    + this.vocabSize + " (" + tokenizerKind + " tokenizer) but the config's vocab_size is "
                    + vocabSize, "set \"vocab_size\": " + this.vocabSize
                    + " (or more) in the config, or prepare the data with a smaller tokenizer");
        }
    }

    /** The train shards, concatenated; null-free, checked against the manifest's token count. */
    public TokenData train(int vocabSize) {
        return open("train", trainFiles, trainTokens, vocabSize);
    }

    /** The val shards, or null when the data has no val split. */
    public TokenData val(int vocabSize) {
        return valFiles.isEmpty() ? null : open("val", valFiles, valTokens, vocabSize);
    }

    private TokenData open(String split, List<Path> files, long tokens, int vocabSize) {
        checkVocab(vocabSize);
        if (files.isEmpty()) {
            throw new DataException(manifest().toString(), "lists no " + split + " shards",
                    "prepare the data again with ./mixlab prepare");
        }
        List<TokenData> parts = new ArrayList<>();
        for (Path f : files) {
            parts.add(ShardTokens.open(f, vocabSize));
        }
        TokenData all = parts.size() == 1 ? parts.get(0) : new ConcatTokens(dir + " (" + split + ")", parts);
        if (all.size() != tokens) {
            throw new DataException(manifest().toString(), "says the " + split + " split has " + tokens
                    + " tokens but its shards hold " + all.size(), "prepare the data again (a shard was replaced or cut)");
        }
        return all;
    }
}
