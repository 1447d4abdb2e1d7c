package dev.mixlab.cli;

import dev.mixlab.hf.HfImport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mixlab import-hf DIR --out CONFIG.json}: a Hugging Face model folder as a mixlab config + weights. */
@Command(name = "import-hf", mixinStandardHelpOptions = true,
        description = "Import a local Hugging Face model folder (Llama, Mistral, Qwen2, GPT-2; safetensors) as a mixlab"
                + " config, <out-stem>.safetensors and tokenizer.json.")
final class ImportHfCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "folder with config.json and *.safetensors")
    Path dir;

    @Option(names = "--out", required = true, paramLabel = "CONFIG.json", description = "config to write; weights go beside it")
    Path out;

    @Option(names = "--seq-len", paramLabel = "N", description = "context length to write (default: the model's maximum positions)")
    Integer seqLen;

    @Spec
    CommandSpec spec;

    public Integer call() {
        if (!Files.isDirectory(dir)) throw new UserException(dir + ": not a folder; give a Hugging Face model folder");
        if (!out.getFileName().toString().endsWith(".json")) throw new UserException("--out " + out + ": name the config file *.json");
        HfImport.Written w = HfImport.run(dir, out, seqLen);
        var c = w.model().config();
        spec.commandLine().getOut().printf(Locale.ROOT, "imported %s: %d layers, d=%d, vocab %d, seq_len %d, %,d tensors%n"
                        + "config: %s%nweights: %s%n%s",
                w.model().architecture(), c.layers().size(), c.modelDim(), c.vocabSize(), c.seqLen(), w.model().weights().size(),
                w.config(), w.weights(), w.tokenizer() == null ? "tokenizer: none in " + dir + "\n" : "tokenizer: " + w.tokenizer() + "\n");
        spec.commandLine().getOut().flush();
        return 0;
    }
}
