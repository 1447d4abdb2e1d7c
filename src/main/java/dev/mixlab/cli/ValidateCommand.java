package dev.mixlab.cli;

import dev.mixlab.config.Config;
import dev.mixlab.ir.Program;
import dev.mixlab.train.Programs;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mixlab validate CONFIG}: parse, apply defaults, build and verify the IR; one line. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a config and build its IR; prints one line.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG")
    Path config;

    @Spec
    CommandSpec spec;

    public Integer call() {
        Config c = ConfigFiles.load(config);
        Program p = Programs.trainStep(c, Programs.batch(c));
        spec.commandLine().getOut().printf(Locale.ROOT,
                "ok: %s — %d layers, d=%d, vocab %d, seq_len %d, %,d parameters, training step of %d IR ops, batch %d×%d%n",
                c.name(), c.layers().size(), c.modelDim(), c.vocabSize(), c.seqLen(), p.parameterCount(), p.nodes().size(),
                Programs.batch(c), c.seqLen());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
