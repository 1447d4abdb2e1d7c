package dev.mixlab.cli;

import dev.mixlab.config.ConfigException;
import dev.mixlab.data.DataException;
import dev.mixlab.experiment.RaceException;
import dev.mixlab.io.SafetensorsException;
import dev.mixlab.report.ReportException;
import dev.mixlab.train.CheckpointException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Entry point. User errors (bad config, bad data, bad files) print one line to stderr and exit
 * with code 2; only bugs show a stack trace.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI and returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new MixlabCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String msg = userError(ex);
            if (msg == null) throw ex;
            err.println("error: " + msg);
            return 2;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + ex.getMessage());
            err.println("see: mixlab " + (ex.getCommandLine().getCommandName().equals("mixlab") ? "" : ex.getCommandLine().getCommandName() + " ") + "--help");
            return 2;
        });
        return cl.execute(seedStyle(args));
    }

    /** The one-line message of a user error, or null for a bug. */
    static String userError(Throwable ex) {
        return switch (ex) {
            case ConfigException c -> c.getMessage();
            case DataException d -> d.getMessage();
            case SafetensorsException s -> s.getMessage();
            case UserException u -> u.getMessage();
            case ReportException r -> r.getMessage();
            case RaceException r -> r.getMessage();
            case CheckpointException c -> c.getMessage();
            case dev.mixlab.hf.HfException h -> h.getMessage();
            default -> null;
        };
    }

    /**
     * Accepts the seed system's command line, {@code mixlab -config my_model.json -train 'data/*.bin'},
     * as {@code mixlab train my_model.json --train 'data/*.bin'}.
     */
    static String[] seedStyle(String[] args) {
        if (args.length == 0 || !(args[0].equals("-config") || args[0].equals("--config"))) return args;
        List<String> out = new ArrayList<>(List.of("train"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-config") || a.equals("--config")) {
                if (i + 1 < args.length) out.add(args[++i]);
            } else if (a.startsWith("-") && !a.startsWith("--") && a.length() > 2) {
                out.add("-" + a);
            } else {
                out.add(a);
            }
        }
        return out.toArray(String[]::new);
    }
}
