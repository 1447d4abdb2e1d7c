package dev.mixlab.cli;

import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.backend.cuda.Doctor;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mixlab doctor}: the JDK, the CPU engine, and what CUDA offers here. Exit code 1 if CUDA is unusable. */
@Command(name = "doctor", mixinStandardHelpOptions = true, description = "Report the JDK, CPU engine, GPUs, driver and CUDA libraries found.")
final class DoctorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        o.println("ok   java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), " + System.getProperty("os.name")
                + " " + System.getProperty("os.arch"));
        o.println("ok   " + new CpuBackend().describe());
        boolean all = true;
        for (Doctor.Line l : Doctor.check()) {
            o.println((l.ok() ? "ok   " : "FAIL ") + l.text());
            all &= l.ok();
        }
        if (!all) o.println("--device cuda is not available here; --device cpu works");
        o.flush();
        return all ? 0 : 1;
    }
}
