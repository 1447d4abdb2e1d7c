package dev.mixlab.data.prepare;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.Version;
import dev.mixlab.data.DataException;
import dev.mixlab.data.PreparedData;
import dev.mixlab.tokenizer.BpeTrainer;
import dev.mixlab.tokenizer.ByteTokenizer;
import dev.mixlab.tokenizer.CharTokenizer;
import dev.mixlab.tokenizer.Progress;
import dev.mixlab.tokenizer.Tokenizer;
import dev.mixlab.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * {@code mixlab prepare}: reads text and JSONL files as documents, builds or loads a tokenizer,
 * and writes train/val token shards, tokenizer.json and manifest.json into one directory (formats
 * in docs/data.md). Two passes over the inputs: the first counts documents (and trains the
 * tokenizer when it is built from the data), the second encodes and writes.
 */
public final class Prepare {
    /** Largest vocabulary a uint16 shard can hold. */
    public static final int MAX_VOCAB = 65536;

    private Prepare() {}

    /**
     * @param inputs       input files, in order (each a document, or a .jsonl of documents)
     * @param out          output directory
     * @param tokenizer    {@code byte}, {@code char}, {@code bpe:N} or a tokenizer.json path
     * @param valFraction  share of the documents, from the end, that go to val (0 for none)
     * @param jsonlField   field of a JSONL object that holds the text
     * @param shardTokens  most tokens per shard file
     * @param name         shard file prefix
     * @param force        replace the shards and manifest of an earlier prepare in {@code out}
     */
    public record Options(List<Path> inputs, Path out, String tokenizer, double valFraction, String jsonlField,
                          long shardTokens, String name, boolean force) {}

    /**
     * @param data              what was written, as training reads it
     * @param tokenizer         the tokenizer used
     * @param documents         documents read
     * @param valDocuments      documents (from the end) in val; with one document, 0 and {@code valNote} says how
     * @param valNote           one line on how val was chosen
     * @param tokenizerSeconds  time to build the tokenizer (0 when loaded)
     * @param seconds           whole run
     */
    public record Result(PreparedData data, Tokenizer tokenizer, int documents, int valDocuments, String valNote,
                         double tokenizerSeconds, double seconds) {}

    private record Source(Path path, String sha256, long bytes, int documents) {}

    /**
     * Runs the whole preparation.
     *
     * @param log      status lines (stderr in the CLI)
     * @param progress told about BPE training
     * @throws DataException (one line) for any problem with the inputs, the tokenizer or the output
     */
    public static Result run(Options o, PrintStream log, Progress progress) {
        long t0 = System.nanoTime();
        if (o.inputs().isEmpty()) {
            throw new DataException("prepare", "no input files", "name text or .jsonl files to prepare");
        }
        if (!(o.valFraction() >= 0 && o.valFraction() < 1)) {
            throw new DataException("--val-fraction " + o.valFraction(), "must be at least 0 and below 1",
                    "use e.g. 0.1 (the last 10% of documents)");
        }
        if (o.shardTokens() < 1 || o.shardTokens() > Integer.MAX_VALUE) {
            throw new DataException("--shard-tokens " + o.shardTokens(), "must be between 1 and "
                    + Integer.MAX_VALUE + " (the header's int32 count)", "use e.g. 100000000");
        }
        // 1. The tokenizer spec; a saved file is loaded now, before the output directory is touched.
        String spec = o.tokenizer() == null ? "byte" : o.tokenizer().strip();
        Tokenizer tok = null;
        int bpeVocab = 0;
        boolean chars = false;
        if (spec.equals("byte")) {
            tok = ByteTokenizer.INSTANCE;
        } else if (spec.equals("char")) {
            chars = true;
        } else if (spec.startsWith("bpe:") || spec.equals("bpe")) {
            try {
                bpeVocab = Integer.parseInt(spec.substring(Math.min(4, spec.length())));
            } catch (NumberFormatException e) {
                bpeVocab = -1;
            }
            if (bpeVocab < 256 || bpeVocab > MAX_VOCAB) {
                throw new DataException("--tokenizer " + spec, "bpe:N needs a vocabulary N from 256 (the bytes) to "
                        + MAX_VOCAB + " (what a uint16 shard holds)", "write e.g. --tokenizer bpe:4096");
            }
        } else {
            Path f = Path.of(spec);
            if (!Files.exists(f)) {
                throw new DataException("--tokenizer " + spec, "is not byte, char, bpe:N, nor an existing file",
                        "use one of those, or the path of a tokenizer.json written by an earlier prepare");
            }
            tok = Tokenizers.load(f);
        }
        prepareOutput(o);

        // 2. First pass: count documents; learn the tokenizer if it comes from the data.
        BpeTrainer trainer = bpeVocab > 0 ? new BpeTrainer() : null;
        BitSet seen = chars ? new BitSet() : null;
        List<Source> sources = new ArrayList<>();
        for (Path in : o.inputs()) {
            Documents.Read r = Documents.read(in, o.jsonlField(), doc -> {
                if (trainer != null) {
                    trainer.add(doc);
                }
                if (seen != null) {
                    doc.codePoints().forEach(seen::set);
                }
            });
            sources.add(new Source(in, r.sha256(), r.bytes(), r.documents()));
        }
        int docs = sources.stream().mapToInt(Source::documents).sum();
        if (docs == 0) {
            throw new DataException(o.inputs().get(0).toString(), "the inputs hold no text (every document is empty)",
                    "give files with text" + (o.inputs().stream().anyMatch(Documents::isJsonl)
                            ? " (or the right --jsonl-field)" : ""));
        }
        long tt = System.nanoTime();
        if (trainer != null) {
            log.printf(Locale.ROOT, "bpe: %,d distinct chunks in %,d document%s; learning %,d merges%n",
                    trainer.distinctChunks(), docs, docs == 1 ? "" : "s", bpeVocab - 256);
            tok = trainer.train(bpeVocab, progress);
            if (tok.vocabSize() < bpeVocab) {
                log.printf(Locale.ROOT, "bpe: the text has no more pairs to merge; vocabulary %,d instead of %,d%n",
                        tok.vocabSize(), bpeVocab);
            }
        } else if (seen != null) {
            tok = new CharTokenizer(seen.stream().toArray());
        }
        double tokSeconds = tok instanceof ByteTokenizer || (trainer == null && seen == null) ? 0
                : (System.nanoTime() - tt) / 1e9;
        if (tok.vocabSize() > MAX_VOCAB) {
            throw new DataException("--tokenizer " + spec, "gives a vocabulary of " + tok.vocabSize()
                    + ", more than the " + MAX_VOCAB + " ids a uint16 shard holds",
                    "use a smaller tokenizer (for char: fewer distinct characters; or bpe:N)");
        }
        Path tokFile = o.out().resolve("tokenizer.json");
        Tokenizers.save(tok, tokFile);

        // 3. Which documents go to val.
        int valDocs = 0;
        boolean splitSoleDoc = false;
        String valNote;
        if (o.valFraction() == 0) {
            valNote = "no val split (--val-fraction 0)";
        } else if (docs == 1) {
            splitSoleDoc = true;
            valNote = "one document: its last " + pct(o.valFraction()) + " of tokens are val";
        } else {
            valDocs = (int) Math.min(docs - 1, Math.max(1, Math.round(o.valFraction() * docs)));
            valNote = "last " + valDocs + " of " + docs + " documents are val";
        }

        // 4. Second pass: encode and write.
        String name = o.name() != null ? o.name() : defaultName(o.out());
        int g = 0;
        try (ShardWriter train = new ShardWriter(o.out(), name + "_train", o.shardTokens());
             ShardWriter val = new ShardWriter(o.out(), name + "_val", o.shardTokens())) {
            for (Source s : sources) {
                int[] index = {0};
                final Tokenizer t = tok;
                final int firstVal = docs - valDocs;
                final boolean sole = splitSoleDoc;
                final int gStart = g;
                Documents.Read r = Documents.read(s.path(), o.jsonlField(), doc -> {
                    int[] ids;
                    try {
                        ids = t.encode(doc);
                    } catch (IllegalArgumentException e) {
                        throw new DataException(s.path().toString(), e.getMessage() + " of " + tokFile.getFileName()
                                + " (given with --tokenizer)", "prepare with --tokenizer char to build the vocabulary"
                                + " from these inputs, or bpe:N / byte, which express any text");
                    }
                    int gi = gStart + index[0]++;
                    if (sole) {
                        int nVal = (int) Math.max(1, Math.round(o.valFraction() * ids.length));
                        if (ids.length - nVal < 1) {
                            throw new DataException(s.path().toString(), "only " + ids.length
                                    + " tokens, too few to split into train and val", "give more text or --val-fraction 0");
                        }
                        train.write(ids, 0, ids.length - nVal);
                        val.write(ids, ids.length - nVal, ids.length);
                    } else if (gi < firstVal) {
                        train.write(ids, 0, ids.length);
                    } else {
                        val.write(ids, 0, ids.length);
                    }
                });
                if (!r.sha256().equals(s.sha256())) {
                    throw new DataException(s.path().toString(), "changed while it was being prepared",
                            "run prepare again once nothing writes to the inputs");
                }
                g += r.documents();
            }
            train.close();
            val.close();
            PreparedData data = new PreparedData(o.out(), tok.kind(), tokFile, tok.vocabSize(),
                    train.files().stream().map(o.out()::resolve).toList(), train.tokens(),
                    val.files().stream().map(o.out()::resolve).toList(), val.tokens());
            writeManifest(o, spec, tok, sources, train, val, valDocs, valNote);
            return new Result(data, tok, docs, valDocs, valNote, tokSeconds, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static String pct(double f) {
        return String.format(Locale.ROOT, "%.4g%%", f * 100).replaceAll("\\.?0+%$", "%");
    }

    static String defaultName(Path out) {
        Path fn = out.toAbsolutePath().normalize().getFileName();
        String n = fn == null ? "data" : fn.toString().replaceAll("[^A-Za-z0-9._-]", "_");
        return n.isEmpty() ? "data" : n;
    }

    // Creates the directory; refuses to mix with an earlier prepare unless --force, which removes
    // the earlier manifest and shards (the manifest first, so a half-done run never looks done).
    private static void prepareOutput(Options o) {
        Path out = o.out();
        String where = out.toString();
        try {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new DataException(where, "exists and is not a directory", "choose another --out");
            }
            Files.createDirectories(out);
            List<Path> old = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
                for (Path p : ds) {
                    String n = p.getFileName().toString();
                    if (n.equals(PreparedData.MANIFEST) || n.matches(".*_(train|val)_\\d{6}\\.bin")) {
                        old.add(p);
                    }
                }
            }
            if (!old.isEmpty() && !o.force()) {
                throw new DataException(where, "already holds prepared data (" + old.size() + " files such as "
                        + old.get(0).getFileName() + ")", "choose another --out, or pass --force to replace it");
            }
            old.sort((a, b) -> a.getFileName().toString().equals(PreparedData.MANIFEST) ? -1
                    : b.getFileName().toString().equals(PreparedData.MANIFEST) ? 1 : a.compareTo(b));
            for (Path p : old) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new DataException(where, "cannot create or clean the output directory (" + e + ")",
                    "check the path and its permissions");
        }
    }

    private static void writeManifest(Options o, String spec, Tokenizer tok, List<Source> sources, ShardWriter train,
                                      ShardWriter val, int valDocs, String valNote) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode m = json.createObjectNode();
        m.put("format", PreparedData.FORMAT);
        m.put("version", 1);
        m.put("mixlab_version", Version.VERSION);
        m.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        ObjectNode t = m.putObject("tokenizer");
        t.put("kind", tok.kind());
        t.put("file", "tokenizer.json");
        t.put("vocab_size", tok.vocabSize());
        t.put("spec", spec);
        m.put("vocab_size", tok.vocabSize());
        m.put("val_fraction", o.valFraction());
        m.put("val_rule", valNote);
        if (sources.stream().anyMatch(s -> Documents.isJsonl(s.path()))) {
            m.put("jsonl_field", o.jsonlField());
        }
        m.put("shard_tokens", o.shardTokens());
        ObjectNode splits = m.putObject("splits");
        int docs = sources.stream().mapToInt(Source::documents).sum();
        split(splits.putObject("train"), train, valDocs == 0 && val.tokens() > 0 ? docs : docs - valDocs);
        split(splits.putObject("val"), val, valDocs == 0 && val.tokens() > 0 ? docs : valDocs);
        ArrayNode src = m.putArray("sources");
        for (Source s : sources) {
            ObjectNode n = src.addObject();
            n.put("path", s.path().toString());
            n.put("sha256", s.sha256());
            n.put("bytes", s.bytes());
            n.put("documents", s.documents());
        }
        Path file = o.out().resolve(PreparedData.MANIFEST);
        try {
            Path tmp = o.out().resolve(PreparedData.MANIFEST + ".tmp");
            json.writeValue(tmp.toFile(), m);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new DataException(file.toString(), "cannot write the manifest (" + e + ")",
                    "check that the directory is writable");
        }
    }

    private static void split(ObjectNode n, ShardWriter w, int documents) {
        ArrayNode files = n.putArray("files");
        w.files().forEach(files::add);
        n.put("tokens", w.tokens());
        n.put("documents", documents);
    }
}
