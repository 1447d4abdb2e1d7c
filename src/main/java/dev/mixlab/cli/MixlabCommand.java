package dev.mixlab.cli;

import picocli.CommandLine.Command;

/** The top-level command: lists the subcommands. */
@Command(name = "mixlab", mixinStandardHelpOptions = true, version = "mixlab " + dev.mixlab.Version.VERSION,
        description = "Define a language model in JSON, train it, compare it.",
        subcommands = {TrainCommand.class, PrepareCommand.class, RaceCommand.class, RunsCommand.class, ValidateCommand.class,
                CountCommand.class, IrCommand.class, GenerateCommand.class, ReportCommand.class, ImportHfCommand.class,
                ExportHfCommand.class, DoctorCommand.class})
final class MixlabCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
