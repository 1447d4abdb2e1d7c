package dev.mixlab.cli;

import dev.mixlab.report.Report;
import dev.mixlab.report.ReportWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mixlab report RUN_OR_RACE_DIR... [--out report.html]}: one self-contained HTML page and PNG plots. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write one self-contained HTML page (loss curves, results, configs, plan) and PNG plots beside it.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN_OR_RACE_DIR", description = "run directories, race directories, or folders of runs")
    List<Path> inputs;

    @Option(names = "--out", paramLabel = "FILE", description = "the page to write (default: report.html in the one input dir, else in the current dir)")
    Path out;

    @Spec
    CommandSpec spec;

    public Integer call() {
        Report r = Report.load(inputs);
        Path page = out != null ? out : inputs.size() == 1 ? inputs.getFirst().resolve("report.html") : Path.of("report.html");
        ReportWriter.Written w = ReportWriter.write(r, page);
        PrintWriter o = spec.commandLine().getOut();
        int runs = r.groups().stream().mapToInt(g -> g.runs().size()).sum();
        o.printf("report: %s (%d configs, %d runs)%n", w.html(), r.groups().size(), runs);
        for (Path p : w.pngs()) o.printf("plot:   %s%n", p);
        for (String s : w.warnings()) spec.commandLine().getErr().println("warning: " + s);
        o.flush();
        spec.commandLine().getErr().flush();
        return 0;
    }
}
