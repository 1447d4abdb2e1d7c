package dev.mixlab.cli;

import dev.mixlab.config.Config;
import dev.mixlab.ir.Printer;
import dev.mixlab.ir.Program;
import dev.mixlab.train.Programs;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mixlab ir CONFIG}: prints a program of the config. */
@Command(name = "ir", mixinStandardHelpOptions = true, description = "Print the IR program of a config.")
final class IrCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG")
    Path config;

    @Option(names = "--program", defaultValue = "train", description = "train (the whole step: forward, backward, optimizer) or forward")
    String program;

    @Option(names = "--batch", description = "sequences per batch (default: training.batch_tokens / seq_len)")
    Integer batch;

    @Spec
    CommandSpec spec;

    public Integer call() {
        Config c = ConfigFiles.load(config);
        int b = batch != null ? batch : Programs.batch(c);
        if (b < 1) throw new UserException("--batch must be at least 1");
        Program p = switch (program) {
            case "train" -> Programs.trainStep(c, b);
            case "forward", "eval" -> Programs.eval(c, b);
            default -> throw new UserException("--program " + program + ": use train or forward");
        };
        spec.commandLine().getOut().print(Printer.print(p));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
