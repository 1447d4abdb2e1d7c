package dev.mixlab.cli;

import dev.mixlab.train.ModelReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mixlab count CONFIG}: parameters, FLOPs, memory and IR size, without running anything. */
@Command(name = "count", mixinStandardHelpOptions = true, description = "Count parameters, FLOPs per token and memory of a config.")
final class CountCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG")
    Path config;

    @Spec
    CommandSpec spec;

    public Integer call() {
        dev.mixlab.config.Config c = ConfigFiles.load(config);
        ModelReport r = ModelReport.of(c);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%s: %d layers, seq_len %d, batch %d sequences%n", r.name(), r.layers(), r.seqLen(), r.batch());
        o.printf(Locale.ROOT, "parameters            %,15d   (%,d without position embeddings)%n", r.parameters(),
                r.parameters() - r.positionParameters());
        if (r.activeParameters() != r.parameters()) {
            o.printf(Locale.ROOT, "active parameters     %,15d   (per token: top_k of each layer's routed experts; %.1f%% of the total)%n",
                    r.activeParameters(), 100.0 * r.activeParameters() / r.parameters());
        }
        o.printf(Locale.ROOT, "FLOPs/token forward   %,15d   (IR, op by op; causal attention counted as computed)%n", r.forwardFlopsPerToken());
        o.printf(Locale.ROOT, "FLOPs/token train     %,15d   (IR: forward + backward + optimizer)%n", r.trainFlopsPerToken());
        o.printf(Locale.ROOT, "FLOPs/token formula   %,15d   (6N + 12·L·d·T, N = active params without position embeddings)%n", r.formulaFlopsPerToken());
        o.printf(Locale.ROOT, "memory: parameters %s, optimizer state %s, activations+gradients %s (float32, planned)%n",
                mib(r.paramBytes()), mib(r.optimizerBytes()), mib(r.activationBytes()));
        if (r.mhaKvCacheBytesPerToken() > 0) o.printf(Locale.ROOT, "kv cache: %,d bytes/token (fp32), MHA with the same heads and head dims: %,d bytes/token%s%n",
                r.kvCacheBytesPerToken(), r.mhaKvCacheBytesPerToken(), r.kvCacheBytesPerToken() > 0
                        ? String.format(Locale.ROOT, " (%.2fx)", (double) r.mhaKvCacheBytesPerToken() / r.kvCacheBytesPerToken()) : "");
        long recurrent = recurrentStateBytes(c, r.kvCacheBytesPerToken());
        if (recurrent > 0) {
            o.printf(Locale.ROOT, "recurrent state: %,d bytes/sequence (fp32), the same at every context length%n", recurrent);
        }
        o.printf(Locale.ROOT, "IR ops: %d in the training step, %d in the forward pass%n", r.trainOps(), r.forwardOps());
        o.flush();
        return 0;
    }

    /**
     * Bytes of decode state one sequence carries besides its KV cache: the recurrent mixers' states
     * (and their short-convolution and token-shift rows), read off the decode program's state tensors
     * (at batch 1, minus the KV cache of a full context).
     */
    static long recurrentStateBytes(dev.mixlab.config.Config c, long kvBytesPerToken) {
        dev.mixlab.ir.Program dec = dev.mixlab.train.Programs.decode(c, 1, 1);
        long floats = 0;
        for (dev.mixlab.ir.Value v : dec.state()) floats += v.shape().size();
        return floats * 4 - kvBytesPerToken * c.seqLen();
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
