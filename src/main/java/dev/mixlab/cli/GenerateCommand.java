package dev.mixlab.cli;

import dev.mixlab.backend.Backend;
import dev.mixlab.config.Config;
import dev.mixlab.infer.Generator;
import dev.mixlab.infer.SamplingOptions;
import dev.mixlab.infer.TestTimeCompute;
import dev.mixlab.infer.TextGeneration;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.tokenizer.ByteTokenizer;
import dev.mixlab.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mixlab generate RUN_DIR|CONFIG}: sample text from a trained model, streaming it. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text from a trained model (KV-cache decoding).")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR|CONFIG", description = "a run directory (config.json + model.safetensors) or a config")
    Path source;

    @Option(names = "--weights", description = "weights (.safetensors); default RUN_DIR/model.safetensors")
    Path weights;

    @Option(names = "--prompt", description = "prompt text")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", description = "prompt as token ids, e.g. 1,2,3")
    int[] promptIds;

    @Option(names = "--max-tokens", defaultValue = "200")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens (0 = all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass")
    double topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0")
    double repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--num-samples", defaultValue = "1", description = "independent samples, decoded together")
    int numSamples;

    @Option(names = "--stop", description = "stop a sample when its text contains this")
    String stop;

    @Option(names = "--best-of", description = "draw N samples, print the one with the highest log-probability")
    Integer bestOf;

    @Option(names = "--length-normalize", description = "with --best-of: rank by mean log-probability per token")
    boolean lengthNormalize;

    @Option(names = "--beam", description = "beam search with this many beams (for --max-tokens tokens)")
    Integer beam;

    @Option(names = "--draft", description = "speculative decoding with this draft model (RUN_DIR)")
    Path draft;

    @Option(names = "--gamma", defaultValue = "4", description = "draft tokens per speculative round")
    int gamma;

    @Option(names = "--device", defaultValue = "cpu")
    String device;

    public Integer call() {
        Model m = Model.load(source, weights);
        Backend backend = Devices.backend(device);
        Tokenizer tok = m.tokenizer();
        int[] ids = promptIds != null ? promptIds : tok.encode(prompt != null ? prompt : "\n");
        if (ids.length == 0) throw new UserException("the prompt is empty; give --prompt TEXT or --prompt-ids");
        for (int id : ids) {
            if (id < 0 || id >= m.config().vocabSize()) {
                throw new UserException("--prompt-ids: id " + id + " is outside the vocabulary [0," + m.config().vocabSize() + ")");
            }
        }
        if (numSamples < 1 || maxTokens < 1) throw new UserException("--num-samples and --max-tokens must be at least 1");
        SamplingOptions o = new SamplingOptions(temperature, topK, topP, repetitionPenalty, seed);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        TextGeneration.Stop stopRule = stop == null ? TextGeneration.Stop.NEVER
                : g -> tok.decode(g.stream().mapToInt(Integer::intValue).toArray()).contains(stop);
        long t0 = System.nanoTime();
        long produced;
        if (draft != null) {
            Model d = Model.load(draft, null);
            try (Generator tg = new Generator(m.config(), backend, m.weights(), 1);
                 Generator dg = new Generator(d.config(), backend, d.weights(), 1)) {
                if (tg.recurrent() || dg.recurrent()) {
                    throw new UserException("--draft: speculative decoding rewinds the cache to drop rejected tokens, which the"
                            + " recurrent state of " + (tg.recurrent() ? "the target's" : "the draft's")
                            + " retnet/mlstm/rwkv/gated_deltanet/mamba2 blocks cannot do; use attention-only models (or drop --draft)");
                }
                TestTimeCompute.Speculative r = TestTimeCompute.speculative(tg, dg, ids, maxTokens, gamma, o);
                out.print(tok.decode(ids) + tok.decode(r.tokens()));
                out.println();
                System.err.printf(Locale.ROOT, "speculative: %d draft tokens proposed, %d accepted (%.1f%%), %d target calls%n",
                        r.proposed(), r.accepted(), 100 * r.acceptanceRate(), r.targetCalls());
                produced = r.tokens().length;
            }
        } else if (beam != null) {
            try (Generator g = new Generator(m.config(), backend, m.weights(), beam)) {
                List<TestTimeCompute.Beam> beams = TestTimeCompute.beamSearch(g, ids, maxTokens);
                for (TestTimeCompute.Beam b : beams) {
                    out.printf(Locale.ROOT, "--- beam log-prob %.3f%n%s%s%n", b.logProb(), tok.decode(ids), tok.decode(b.tokens()));
                }
                produced = (long) beam * maxTokens;
            }
        } else if (bestOf != null) {
            try (Generator g = new Generator(m.config(), backend, m.weights(), bestOf)) {
                TextGeneration.Sample s = TestTimeCompute.bestOfN(g, ids, maxTokens, o, stopRule,
                        lengthNormalize ? TestTimeCompute.Score.MEAN_LOG_PROB : TestTimeCompute.Score.LOG_PROB);
                out.println(tok.decode(ids) + tok.decode(s.tokens()));
                System.err.printf(Locale.ROOT, "best of %d: log-prob %.3f (%.3f per token)%n", bestOf, s.logProb(), s.meanLogProb());
                produced = (long) bestOf * maxTokens;
            }
        } else {
            try (Generator g = new Generator(m.config(), backend, m.weights(), numSamples)) {
                if (numSamples == 1) {
                    out.print(tok.decode(ids));
                    StreamPrinter sp = new StreamPrinter(tok, out);
                    List<TextGeneration.Sample> s = TextGeneration.generate(g, ids, maxTokens, o, stopRule, (r, t) -> sp.add(t));
                    sp.finish();
                    produced = s.get(0).tokens().length;
                } else {
                    List<TextGeneration.Sample> s = TextGeneration.generate(g, ids, maxTokens, o, stopRule, null);
                    produced = 0;
                    for (int i = 0; i < s.size(); i++) {
                        out.printf(Locale.ROOT, "--- sample %d (log-prob %.3f)%n%s%s%n", i + 1, s.get(i).logProb(), tok.decode(ids),
                                tok.decode(s.get(i).tokens()));
                        produced += s.get(i).tokens().length;
                    }
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "%d tokens in %.2f s (%.0f tokens/s, %s)%n", produced, secs, produced / secs, backend.name());
        return 0;
    }

    /** Prints a token stream as text as soon as the bytes form whole characters. */
    static final class StreamPrinter {
        private final Tokenizer tok;
        private final PrintStream out;
        private final List<Integer> ids = new java.util.ArrayList<>();
        private int printed;

        StreamPrinter(Tokenizer tok, PrintStream out) {
            this.tok = tok;
            this.out = out;
        }

        void add(int t) {
            ids.add(t);
            String s = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
            if (!s.endsWith("\uFFFD") && s.length() > printed) {
                out.print(s.substring(printed));
                out.flush();
                printed = s.length();
            }
        }

        void finish() {
            String s = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
            if (s.length() > printed) out.print(s.substring(printed));
            out.println();
        }
    }

    /** For vocabularies without a known tokenizer: ids are written as numbers; text prompts are refused. */
    record IdTokenizer(int vocabSize) implements Tokenizer {
        public String kind() {
            return "ids";
        }

        public String toJson() {
            return "{\"kind\": \"ids\", \"vocab_size\": " + vocabSize + "}";
        }

        public int[] encode(String text) {
            throw new UserException("this model's vocabulary (" + vocabSize + ") has no tokenizer here; give --prompt-ids");
        }

        public String decode(int[] ids) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) sb.append(id).append(' ');
            return sb.toString();
        }
    }

    /** A config, its weights and tokenizer, from a run directory or a config plus --weights. */
    record Model(Config config, Map<String, float[]> weights, Tokenizer tokenizer) {
        static Model load(Path source, Path weights) {
            Path cfg = Files.isDirectory(source) ? source.resolve("config.json") : source;
            if (!Files.exists(cfg)) throw new UserException(source + ": no config.json here; pass a run directory or a config file");
            Config c = ConfigFiles.load(cfg);
            Path w = weights != null ? weights : Files.isDirectory(source) ? source.resolve("model.safetensors") : null;
            if (w == null) throw new UserException(source + " is a config: pass --weights FILE.safetensors");
            if (!Files.exists(w)) throw new UserException(w + ": weights not found; train first or pass --weights");
            Map<String, float[]> ws = new HashMap<>();
            try (SafetensorsFile f = Safetensors.read(w)) {
                for (String n : f.names()) ws.put(n, f.tensor(n).floats());
            }
            Path tokFile = Files.isDirectory(source) ? source.resolve("tokenizer.json") : null;
            Tokenizer tok = tokFile != null && Files.exists(tokFile) ? dev.mixlab.tokenizer.Tokenizers.load(tokFile)
                    : c.vocabSize() == 256 ? ByteTokenizer.INSTANCE : new IdTokenizer(c.vocabSize());
            return new Model(c, ws, tok);
        }
    }
}
