package dev.mixlab.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.config.Config;
import dev.mixlab.data.DataException;
import dev.mixlab.golf.Int8Artifact;
import dev.mixlab.golf.TokenBytes;
import dev.mixlab.data.TokenData;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.tokenizer.SentencePieceModel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The parameter-golf parts of a training run, called by the {@link Trainer}:
 * with a SentencePiece model, every validation covers the whole val split and reports
 * {@code val_bpb} beside {@code val_loss}; at the end of a run, optionally a sliding-window
 * evaluation, then the int8+zlib artifact ({@value #ARTIFACT}) is written, read back, dequantized and
 * evaluated, and its size is reported with the config file's size as the "code".
 */
public final class GolfRun implements AutoCloseable {
    /** The artifact's file name in the run directory. */
    public static final String ARTIFACT = "model.int8.zlib";

    /**
     * What the run asked for.
     *
     * @param tokenizerModel SentencePiece {@code .model} for {@code val_bpb}, or null
     * @param evalStride     0: no sliding evaluation; else its stride, for the final evaluations
     * @param int8Artifact   write the artifact; null: only when a tokenizer model is given
     * @param configFile     the config file whose size counts as "code" (null: the run's config.json)
     */
    public record Options(Path tokenizerModel, int evalStride, Boolean int8Artifact, Path configFile) {
        public static final Options NONE = new Options(null, 0, null, null);

        /** Whether the artifact is written. */
        public boolean artifact() {
            return int8Artifact != null ? int8Artifact : tokenizerModel != null;
        }

        /** Whether anything golf-specific happens. */
        public boolean active() {
            return tokenizerModel != null || evalStride > 0 || artifact();
        }
    }

    private final Options opts;
    private final ValEval eval;
    private final PrintStream out;

    private GolfRun(Options opts, ValEval eval, PrintStream out) {
        this.opts = opts;
        this.eval = eval;
        this.out = out;
    }

    /**
     * The golf hooks of a run, or null when {@code opts} asks for none. Reads the tokenizer model and
     * counts the validation bytes; prints one line saying what will happen.
     */
    public static GolfRun open(Config config, Options opts, TokenData val, Backend backend, int batch, PrintStream out) {
        return open(config, opts, val, backend, batch, null, out);
    }

    /** As above, reusing {@code eval} (an eval program of {@code batch} sequences, not closed here) when it fits. */
    public static GolfRun open(Config config, Options opts, TokenData val, Backend backend, int batch, Executable eval,
                               PrintStream out) {
        if (opts == null || !opts.active()) return null;
        if (opts.evalStride() < 0 || opts.evalStride() > config.seqLen()) {
            throw new DataException("--eval-stride", "must be in [1, seq_len " + config.seqLen() + "], got " + opts.evalStride(),
                    "use e.g. 64, or leave it out");
        }
        TokenBytes table = null;
        if (opts.tokenizerModel() != null) {
            Path m = opts.tokenizerModel();
            if (!Files.isRegularFile(m)) {
                throw new DataException(m.toString(), "no such SentencePiece model", "give the .model file the data was tokenized with");
            }
            if (m.getFileName().toString().endsWith(".json")) {
                // a Hugging Face tokenizer.json (BPE): bytes per token from its vocabulary
                var hf = dev.mixlab.tokenizer.HfTokenizer.load(m);
                table = TokenBytes.of(hf, config.vocabSize());
            }
            SentencePieceModel sp = null;
            if (table == null) try {
                sp = SentencePieceModel.read(m);
            } catch (IllegalArgumentException e) {
                throw new DataException(m.toString(), e.getMessage(), "give a SentencePiece .model file");
            }
            if (sp != null && sp.size() > config.vocabSize()) {
                throw new DataException(m.toString(), "has " + sp.size() + " pieces but vocab_size is " + config.vocabSize(),
                        "set vocab_size to " + sp.size());
            }
            if (sp != null) table = TokenBytes.of(sp, config.vocabSize());
        }
        ValEval e = new ValEval(config, backend, val, table, batch, eval);
        out.printf(Locale.ROOT, "golf: %s%s%s | val: all %,d targets%s%n",
                opts.tokenizerModel() == null ? "no tokenizer model (no val_bpb)" : "val_bpb with " + opts.tokenizerModel(),
                opts.evalStride() > 0 ? ", final sliding eval stride " + opts.evalStride() : "",
                opts.artifact() ? ", int8+zlib artifact" : "",
                e.targets(), table == null ? "" : String.format(Locale.ROOT, " (%,d bytes, %.3f bytes/token)", e.bytes(),
                        (double) e.bytes() / e.targets()));
        return new GolfRun(opts, e, out);
    }

    /** Whether this run's validations go through {@link #validate} (true when val_bpb is reported). */
    public boolean replacesValidation() {
        return opts.tokenizerModel() != null;
    }

    /** A full validation of the executable's current parameters. */
    public ValEval.Result validate(Executable params) {
        return eval.evaluate(params::getFloats);
    }

    /**
     * The end of a finished run: sliding evaluation (if asked), then the artifact (if asked): written
     * to {@code dir}/{@value #ARTIFACT}, read back, dequantized and evaluated. Prints the seed's
     * lines and puts the numbers into {@code summary}.
     */
    public void finish(Executable step, Program program, Path dir, ObjectNode summary) {
        if (opts.evalStride() > 0) {
            ValEval.Result r = eval.evaluateSliding(step::getFloats, opts.evalStride());
            out.println("final_sliding_window " + describe(r));
            put(summary, "sliding", r);
        }
        if (!opts.artifact()) return;
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (Value p : program.params()) {
            values.put(p.name(), step.getFloats(p.name()));
            shapes.put(p.name(), p.shape().dims());
        }
        Int8Artifact.Quantized q = Int8Artifact.quantize(values, shapes);
        byte[] raw = Int8Artifact.serialize(q);
        byte[] blob = Int8Artifact.compress(raw);
        Path file = dir.resolve(ARTIFACT);
        long fileBytes;
        byte[] disk;
        try {
            Files.write(file, blob);
            fileBytes = Files.size(file);
            disk = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        out.printf(Locale.ROOT, "serialized_model_int8_zlib:%d bytes (payload:%d raw:%d payload_ratio:%.2fx) %s%n",
                fileBytes, q.payloadBytes(), raw.length, (double) q.baselineBytes() / Math.max(1, q.payloadBytes()), file);
        Map<String, float[]> back = Int8Artifact.dequantize(Int8Artifact.deserialize(Int8Artifact.decompress(disk)));
        ValEval.Result r = eval.evaluate(back::get);
        out.printf(Locale.ROOT, "final_int8_zlib_roundtrip val_loss:%.4f val_bpb:%s eval_time:%.0fms%n",
                r.loss(), r.hasBpb() ? String.format(Locale.ROOT, "%.4f", r.bpb()) : "n/a", r.seconds() * 1000);
        out.printf(Locale.ROOT, "final_int8_zlib_roundtrip_exact val_loss:%.8f val_bpb:%s%n",
                r.loss(), r.hasBpb() ? String.format(Locale.ROOT, "%.8f", r.bpb()) : "n/a");
        put(summary, "int8_roundtrip", r);
        if (opts.evalStride() > 0) {
            ValEval.Result s = eval.evaluateSliding(back::get, opts.evalStride());
            out.println("final_int8_zlib_roundtrip_sliding " + describe(s));
            put(summary, "int8_roundtrip_sliding", s);
        }
        Path code = opts.configFile() != null ? opts.configFile() : dir.resolve("config.json");
        long codeBytes;
        try {
            codeBytes = Files.size(code);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + code + ": " + e.getMessage(), e);
        }
        out.printf(Locale.ROOT, "total_submission_size code:%d (config file %s) + model:%d = %d bytes%n",
                codeBytes, code, fileBytes, codeBytes + fileBytes);
        summary.put("int8_zlib_bytes", fileBytes).put("int8_payload_bytes", q.payloadBytes())
                .put("code_bytes", codeBytes).put("code_file", code.toString()).put("total_bytes", codeBytes + fileBytes);
    }

    private static String describe(ValEval.Result r) {
        return String.format(Locale.ROOT, "stride:%d val_loss:%.8f val_bpb:%s eval_time:%.0fms", r.stride(), r.loss(),
                r.hasBpb() ? String.format(Locale.ROOT, "%.8f", r.bpb()) : "n/a", r.seconds() * 1000);
    }

    private static void put(ObjectNode summary, String prefix, ValEval.Result r) {
        summary.put(prefix + "_val_loss", r.loss());
        if (r.hasBpb()) summary.put(prefix + "_val_bpb", r.bpb());
        if (r.stride() > 0) summary.put(prefix + "_stride", r.stride());
    }

    @Override
    public void close() {
        eval.close();
    }
}
