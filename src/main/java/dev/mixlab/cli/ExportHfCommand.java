package dev.mixlab.cli;

import dev.mixlab.config.Config;
import dev.mixlab.hf.HfExport;
import dev.mixlab.io.Safetensors;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.io.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mixlab export-hf RUN_DIR|CONFIG [--weights W] --out DIR}: a mixlab model as a Hugging Face folder. */
@Command(name = "export-hf", mixinStandardHelpOptions = true,
        description = "Export a run (or a config and its weights) as a Hugging Face model folder (LlamaForCausalLM,"
                + " Qwen2ForCausalLM or GPT2LMHeadModel).")
final class ExportHfCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR|CONFIG", description = "a run folder (config.json + model.safetensors) or a config file")
    Path source;

    @Option(names = "--weights", paramLabel = "W", description = "weights (default: RUN_DIR/model.safetensors or <config-stem>.safetensors)")
    Path weights;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to copy (default: tokenizer.json beside the config, if any)")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder to write")
    Path out;

    @Spec
    CommandSpec spec;

    public Integer call() {
        Path config = Files.isDirectory(source) ? source.resolve("config.json") : source;
        Path w = weights;
        if (w == null) {
            w = Files.isDirectory(source) ? source.resolve("model.safetensors")
                    : config.resolveSibling(config.getFileName().toString().replaceFirst("\\.json$", "") + ".safetensors");
        }
        if (!Files.isRegularFile(w)) throw new UserException(w + ": weights not found; pass --weights FILE");
        Path tok = tokenizer;
        if (tok == null) {
            Path near = config.toAbsolutePath().resolveSibling("tokenizer.json");
            if (Files.isRegularFile(near)) tok = near;
        } else if (!Files.isRegularFile(tok)) {
            throw new UserException("--tokenizer " + tok + ": file not found");
        }
        Config c = ConfigFiles.load(config);
        Map<String, Tensor> ts = new LinkedHashMap<>();
        try (SafetensorsFile f = Safetensors.read(w)) {
            for (String n : f.names()) {
                Tensor t = f.tensor(n);
                ts.put(n, Tensor.ofFloats(t.shape(), t.floats()));
            }
        }
        HfExport.Exported e = HfExport.write(c, ts, w.toString(), out, tok);
        spec.commandLine().getOut().printf(Locale.ROOT, "exported %s as %s: %d tensors into %s%s%n", c.name(), e.architecture(),
                e.weights().size(), out, tok == null ? " (no tokenizer.json)" : " with " + tok.getFileName());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
