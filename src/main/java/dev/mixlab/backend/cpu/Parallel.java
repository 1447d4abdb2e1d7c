package dev.mixlab.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed pool of worker threads for the CPU kernels.
 *
 * <p>Work is split into chunks whose boundaries depend only on the problem size and the grain,
 * never on the number of threads or on timing, so every kernel that writes each output element
 * from exactly one chunk (or reduces per-chunk partials in chunk order) gives bit-identical
 * results on any machine. Chunks are handed out through an atomic counter; the calling thread
 * works too, so a single-core machine runs everything inline.
 */
public final class Parallel {
    /** A body that processes the half-open index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final int THREADS = Integer.getInteger("mixlab.threads",
            Runtime.getRuntime().availableProcessors());
    private static final Worker[] WORKERS = new Worker[Math.max(0, THREADS - 1)];

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker("mixlab-cpu-" + (i + 1));
            WORKERS[i].start();
        }
    }

    private Parallel() {}

    /** Number of threads kernels use, the caller included. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into chunks of {@code grain} indices (the last
     * one shorter). Returns when every chunk is done; rethrows the first failure.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        grain = Math.max(1, grain);
        int chunks = (n + grain - 1) / grain;
        if (chunks == 1 || WORKERS.length == 0) {
            for (int c = 0; c < chunks; c++) body.run(c * grain, Math.min(n, (c + 1) * grain));
            return;
        }
        Job job = new Job(body, n, grain, chunks, Math.min(WORKERS.length, chunks - 1));
        for (int i = 0; i < job.helpers; i++) WORKERS[i].submit(job);
        job.work();
        job.awaitHelpers();
    }

    /** Number of chunks {@link #forRange} makes for {@code n} indices at this grain. */
    public static int chunks(int n, int grain) {
        return (n + Math.max(1, grain) - 1) / Math.max(1, grain);
    }

    private static final class Job {
        final RangeBody body;
        final int n, grain, chunks, helpers;
        final AtomicInteger next = new AtomicInteger();
        final CountDownLatch done;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(RangeBody body, int n, int grain, int chunks, int helpers) {
            this.body = body;
            this.n = n;
            this.grain = grain;
            this.chunks = chunks;
            this.helpers = helpers;
            this.done = new CountDownLatch(helpers);
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                if (failure.get() != null) continue;
                try {
                    body.run(c * grain, Math.min(n, (c + 1) * grain));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        }

        void awaitHelpers() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error err) throw err;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static final class Worker extends Thread {
        private final java.util.concurrent.SynchronousQueue<Job> inbox = new java.util.concurrent.SynchronousQueue<>();

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void submit(Job job) {
            try {
                inbox.put(job);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting a kernel", e);
            }
        }

        @Override
        public void run() {
            while (true) {
                Job job;
                try {
                    job = inbox.take();
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    job.work();
                } finally {
                    job.done.countDown();
                }
            }
        }
    }
}
