package dev.mixlab.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link MatMulBench} (extra JMH command-line options are passed through, e.g.
 * {@code -p shape=4096x512x1536}) and prints GFLOP/s per shape and layout, mixlab vs OpenBLAS.
 */
public final class BenchMain {
    public static void main(String[] args) throws Exception {
        ChainedOptionsBuilder ob = new OptionsBuilder().parent(new CommandLineOptions(args))
                .include(MatMulBench.class.getSimpleName());
        if (OpenBlas.available()) {
            System.out.println("OpenBLAS: " + OpenBlas.config() + " | core " + OpenBlas.corename());
        } else {
            System.out.println("OpenBLAS not found (" + OpenBlas.MISSING + "): skipping the peer.");
            ob.param("impl", "mixlab");
        }
        Collection<RunResult> results = new Runner(ob.build()).run();

        List<String[]> rows = new ArrayList<>();
        for (RunResult rr : results) {
            var p = rr.getParams();
            if (!p.getParam("impl").equals("mixlab")) continue;
            String shape = p.getParam("shape"), layout = p.getParam("layout");
            double mine = gflops(rr);
            Double peer = null;
            for (RunResult o : results) {
                var q = o.getParams();
                if (q.getParam("impl").equals("openblas") && q.getParam("shape").equals(shape)
                        && q.getParam("layout").equals(layout)) peer = gflops(o);
            }
            int[] g = MatMulBench.gemm(shape, layout);
            rows.add(new String[] {shape, layout, g[0] + "x" + g[1] + "x" + g[2] + (g[3] == 1 ? " tA" : "") + (g[4] == 1 ? " tB" : ""),
                    fmt(mine), peer == null ? "-" : fmt(peer), peer == null ? "-" : String.format(Locale.ROOT, "%.2f", mine / peer)});
        }
        System.out.println();
        System.out.println("| shape (T x in x out) | layout | gemm M x N x K | mixlab GFLOP/s | OpenBLAS GFLOP/s | ratio |");
        System.out.println("|---|---|---|---:|---:|---:|");
        for (String[] r : rows) System.out.println("| " + String.join(" | ", r) + " |");
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.1f", x);
    }

    /** 2·M·N·K flops over the mean time per call (ms). */
    private static double gflops(RunResult rr) {
        var p = rr.getParams();
        int[] g = MatMulBench.gemm(p.getParam("shape"), p.getParam("layout"));
        double ms = rr.getPrimaryResult().getScore();
        return 2.0 * g[0] * g[1] * g[2] / (ms * 1e-3) / 1e9;
    }
}
