package dev.mixlab.bench;

import dev.mixlab.backend.cpu.MatMul;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The three matrix products of a linear layer y = x·Wᵀ (x: [T, in], W: [out, in]) in training:
 * <ul>
 *   <li>{@code fwd}: y[T,out] = x · Wᵀ — M=T, N=out, K=in, transB;
 *   <li>{@code dx}: dX[T,in] = dY · W — M=T, N=in, K=out, no transposes;
 *   <li>{@code dw}: dW[out,in] = dYᵀ · X — M=out, N=in, K=T, transA (dY stored [T,out]).
 * </ul>
 * mixlab runs on heap arrays, OpenBLAS on native copies of the same data.
 *
 * <p>Pitfall: JMH runs each benchmark in a <i>forked</i> JVM, which does not inherit the flags
 * of the JVM that launched it. Without {@code jvmArgsAppend} the fork has no
 * {@code jdk.incubator.vector} module (NoClassDefFoundError) and FFM calls print restricted-method
 * warnings; {@code @Fork(0)} would avoid that but lets profiles of one benchmark (e.g. the other
 * layouts' call sites) pollute the JIT decisions of the next, so we keep one fork each.
 * Inputs are random rather than zeros/constants so that nothing (a JIT or a BLAS shortcut on
 * alpha/beta) can exploit them, and C is overwritten (accumulate=false, beta=0) so repeated
 * invocations cannot drift into overflow/denormal territory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatMulBench {
    /** T x in x out. */
    @Param({"4096x512x1536", "4096x1536x512", "4096x2048x2048", "16384x128x256"})
    public String shape;

    @Param({"fwd", "dx", "dw"})
    public String layout;

    @Param({"mixlab", "openblas"})
    public String impl;

    int M, N, K;
    boolean tA, tB;
    float[] a, b, c;
    Arena arena;
    MemorySegment na, nb, nc;

    /** Returns {M, N, K, transA, transB} of a layout for a shape string. */
    public static int[] gemm(String shape, String layout) {
        String[] p = shape.split("x");
        int t = Integer.parseInt(p[0]), in = Integer.parseInt(p[1]), out = Integer.parseInt(p[2]);
        return switch (layout) {
            case "fwd" -> new int[] {t, out, in, 0, 1};
            case "dx" -> new int[] {t, in, out, 0, 0};
            case "dw" -> new int[] {out, in, t, 1, 0};
            default -> throw new IllegalArgumentException(layout);
        };
    }

    @Setup
    public void setup() {
        int[] g = gemm(shape, layout);
        M = g[0];
        N = g[1];
        K = g[2];
        tA = g[3] == 1;
        tB = g[4] == 1;
        SplittableRandom r = new SplittableRandom(42);
        a = new float[M * K];
        b = new float[K * N];
        c = new float[M * N];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() - 0.5);
        for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() - 0.5);
        if (impl.equals("openblas")) {
            if (!OpenBlas.available()) throw new IllegalStateException("OpenBLAS missing: " + OpenBlas.MISSING);
            OpenBlas.setThreads(Integer.getInteger("bench.threads", 2));
            arena = Arena.ofShared();
            na = arena.allocate((long) a.length * 4, 64);
            nb = arena.allocate((long) b.length * 4, 64);
            nc = arena.allocate((long) c.length * 4, 64);
            MemorySegment.copy(a, 0, na, ValueLayout.JAVA_FLOAT, 0, a.length);
            MemorySegment.copy(b, 0, nb, ValueLayout.JAVA_FLOAT, 0, b.length);
        }
    }

    @TearDown
    public void tearDown() {
        if (arena != null) arena.close();
    }

    @Benchmark
    public Object gemm() {
        if (arena == null) {
            MatMul.matmul(a, 0, tA, b, 0, tB, c, 0, M, N, K, false);
            return c;
        }
        OpenBlas.sgemm(na, tA, nb, tB, nc, M, N, K, false);
        return nc;
    }
}
