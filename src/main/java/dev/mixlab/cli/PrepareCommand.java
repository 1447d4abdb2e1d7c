package dev.mixlab.cli;

import dev.mixlab.data.DataSources;
import dev.mixlab.data.PreparedData;
import dev.mixlab.data.prepare.Prepare;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mixlab prepare INPUT... --out DIR}: tokenizes text into shards ready to train on. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize text or JSONL files into train/val token shards, tokenizer.json and manifest.json.")
final class PrepareCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "text files (one document each) or .jsonl files"
            + " (one document per line); globs are expanded")
    List<String> inputs;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--tokenizer", defaultValue = "byte", paramLabel = "byte|char|bpe:N|FILE",
            description = "byte (vocab 256, default), char (the inputs' code points), bpe:N (byte-level BPE trained"
                    + " on the inputs), or a tokenizer.json from an earlier prepare")
    String tokenizer;

    @Option(names = "--val-fraction", defaultValue = "0.1", description = "share of documents, from the end, held out"
            + " as val (one document: share of its tokens); default 0.1")
    double valFraction;

    @Option(names = "--jsonl-field", defaultValue = "text", description = "JSONL field with the text (default text)")
    String jsonlField;

    @Option(names = "--shard-tokens", defaultValue = "100000000", description = "most tokens per shard file")
    long shardTokens;

    @Option(names = "--name", description = "shard file prefix (default: the output directory's name)")
    String name;

    @Option(names = "--force", description = "replace prepared data already in DIR")
    boolean force;

    @Spec
    CommandSpec spec;

    public Integer call() {
        List<Path> files = new ArrayList<>();
        for (String in : inputs) {
            if (java.nio.file.Files.isDirectory(Path.of(in))) {
                String d = in.replaceAll("/+$", "");
                throw new UserException(in + ": is a directory; name the files, e.g. '" + d + "/*.txt' or '" + d
                        + "/**/*.jsonl' (quoted)");
            }
            files.addAll(DataSources.expand(in));
        }
        PrintStream err = System.err;
        Prepare.Result r = Prepare.run(new Prepare.Options(files, out, tokenizer, valFraction, jsonlField, shardTokens,
                name, force), err, new ProgressBar(err, "bpe merges", ProgressBar.stderrIsTerminal()));
        PreparedData d = r.data();
        PrintWriter o = spec.commandLine().getOut();
        long bytes = 0;
        for (Path f : files) {
            bytes += f.toFile().length();
        }
        o.printf(Locale.ROOT, "prepared %,d file%s (%,d bytes, %,d document%s) with tokenizer %s, vocab %,d%s%n",
                files.size(), files.size() == 1 ? "" : "s", bytes, r.documents(), r.documents() == 1 ? "" : "s",
                tokenizer, d.vocabSize(), r.tokenizerSeconds() > 0
                        ? String.format(Locale.ROOT, " (built in %.1f s)", r.tokenizerSeconds()) : "");
        o.printf(Locale.ROOT, "train: %,d tokens in %d shard%s; val: %,d tokens in %d shard%s (%s)%n",
                d.trainTokens(), d.trainFiles().size(), d.trainFiles().size() == 1 ? "" : "s", d.valTokens(),
                d.valFiles().size(), d.valFiles().size() == 1 ? "" : "s", r.valNote());
        o.printf(Locale.ROOT, "wrote %s (manifest.json, tokenizer.json) in %.1f s; train with:"
                + " ./mixlab train CONFIG --train %s   (vocab_size >= %d)%n", out, r.seconds(), out, d.vocabSize());
        o.flush();
        return 0;
    }
}
