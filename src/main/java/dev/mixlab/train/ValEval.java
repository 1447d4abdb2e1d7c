package dev.mixlab.train;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.config.Config;
import dev.mixlab.data.DataException;
import dev.mixlab.golf.TokenBytes;
import dev.mixlab.data.SequentialWindows;
import dev.mixlab.data.TokenData;
import dev.mixlab.ir.Value;
import java.util.function.Function;

/**
 * Validation over the whole val split, as the parameter-golf reference trainer's {@code eval_val}:
 * the tokens are cut to {@code usable + 1} with {@code usable = ((n - 1) / seq_len) * seq_len}, every
 * target {@code 1..usable} is scored once, and
 * {@code val_loss} = mean cross-entropy in nats per token, {@code val_bpb = (val_loss / ln 2) ×
 * tokens / bytes} with bytes from {@link TokenBytes}.
 *
 * <p>{@link #evaluate} scores non-overlapping windows (the seed's metric) with the eval program on
 * the device, batch by batch (a second program takes the last, smaller batch).
 * {@link #evaluateSliding} scores the same targets with windows that advance by {@code stride}: the
 * first window scores all its {@code seq_len} targets, each later one only its last targets not yet
 * scored (at most {@code stride}), so every target is scored once with at least
 * {@code seq_len - stride} tokens of context (the last window is moved back to end at the last
 * target). It reads the logits back to the host and computes the loss there in float64.
 */
public final class ValEval implements AutoCloseable {
    /**
     * One evaluation.
     *
     * @param loss    mean cross-entropy, nats per token
     * @param tokens  targets scored
     * @param bytes   their bytes (0 without a byte table)
     * @param bpb     bits per byte, NaN without a byte table
     * @param stride  0 for non-overlapping windows, else the sliding stride
     */
    public record Result(double loss, long tokens, long bytes, double bpb, double seconds, int stride) {
        public boolean hasBpb() {
            return !Double.isNaN(bpb);
        }
    }

    private final Config config;
    private final Backend backend;
    private final TokenData val;
    private final TokenBytes table;
    /** Most logits one sliding-evaluation run reads back (floats): bounds its batch. */
    static final long MAX_SLIDING_LOGITS = 64L << 20;

    private final int seqLen, batch, slidingBatch, windows;
    private final long targets, bytes;
    private final Executable shared;
    private Executable full, rest, forward;

    /**
     * @param table byte counts, or null for loss only
     * @param batch sequences per evaluation program run (capped at the number of windows)
     */
    public ValEval(Config config, Backend backend, TokenData val, TokenBytes table, int batch) {
        this(config, backend, val, table, batch, null);
    }

    /**
     * @param shared an already compiled {@link Programs#eval} program of {@code batch} sequences to
     *               use (not closed here), or null
     */
    public ValEval(Config config, Backend backend, TokenData val, TokenBytes table, int batch, Executable shared) {
        this.config = config;
        this.backend = backend;
        this.val = val;
        this.table = table;
        this.seqLen = config.seqLen();
        this.windows = new SequentialWindows(val).windows(seqLen);
        if (windows < 1) {
            throw new DataException(val.describe(), "validation data has " + val.size()
                    + " tokens, fewer than one window of seq_len+1 = " + (seqLen + 1), "give more validation data or a smaller seq_len");
        }
        this.batch = Math.max(1, Math.min(batch, windows));
        this.slidingBatch = (int) Math.max(1, Math.min(this.batch, MAX_SLIDING_LOGITS / ((long) seqLen * config.vocabSize())));
        boolean fits = shared != null && shared.program().inputs().stream()
                .anyMatch(v -> v.name().equals(Programs.IDS) && v.shape().dims()[0] == this.batch);
        this.shared = fits ? shared : null;
        this.targets = (long) windows * seqLen;
        this.bytes = table == null ? 0 : table.count(val, 1, targets + 1);
        if (table != null && bytes <= 0) {
            throw new DataException(val.describe(), "the validation targets decode to 0 bytes", "check the tokenizer model matches the data");
        }
    }

    /** Targets every evaluation scores ({@code ((n - 1) / seq_len) * seq_len}). */
    public long targets() {
        return targets;
    }

    /** Their bytes (0 without a byte table). */
    public long bytes() {
        return bytes;
    }

    /** {@code (loss / ln 2) × tokens / bytes}, as the seed computes it. */
    public static double bpb(double loss, long tokens, long bytes) {
        double bitsPerToken = loss / Math.log(2.0);
        return bitsPerToken * ((double) tokens / (double) bytes);
    }

    /** Non-overlapping windows over the whole split, with the parameters {@code params} gives by name. */
    public Result evaluate(Function<String, float[]> params) {
        long t0 = System.nanoTime();
        if (full == null) full = shared != null ? shared : backend.compile(Programs.eval(config, batch));
        load(full, params);
        int fullBatches = windows / batch, remainder = windows % batch;
        int[] x = new int[batch * seqLen], y = new int[batch * seqLen];
        SequentialWindows w = new SequentialWindows(val);
        double sum = 0;
        for (int i = 0; i < fullBatches; i++) {
            w.fill(x, y, i * batch, batch, seqLen);
            full.setInts(Programs.IDS, x);
            full.setInts(Programs.TARGETS, y);
            full.run();
            sum += (double) full.scalar(Programs.LOSS) * ((long) batch * seqLen);
        }
        if (remainder > 0) {
            if (rest == null) rest = backend.compile(Programs.eval(config, remainder));
            load(rest, params);
            int[] rx = new int[remainder * seqLen], ry = new int[remainder * seqLen];
            w.fill(rx, ry, fullBatches * batch, remainder, seqLen);
            rest.setInts(Programs.IDS, rx);
            rest.setInts(Programs.TARGETS, ry);
            rest.run();
            sum += (double) rest.scalar(Programs.LOSS) * ((long) remainder * seqLen);
        }
        return result(sum, 0, t0);
    }

    /**
     * The windows of a sliding evaluation over targets {@code 1..targets}: row k is
     * {@code {start, from}}: inputs {@code tok[start, start + seqLen)}, scoring window positions
     * {@code from..seqLen-1} (targets {@code start+from+1 .. start+seqLen}).
     */
    public static long[][] slidingPlan(long targets, int seqLen, int stride) {
        java.util.List<long[]> out = new java.util.ArrayList<>();
        for (long[] s = firstWindow(seqLen); s != null; s = nextWindow(s, targets, seqLen, stride)) out.add(s.clone());
        return out.toArray(new long[0][]);
    }

    private static long[] firstWindow(int seqLen) {
        return new long[] {0, 0};
    }

    // The window after s (or null): its end advances by stride, clamped at the last target.
    private static long[] nextWindow(long[] s, long targets, int seqLen, int stride) {
        long end = s[0] + seqLen;
        if (end >= targets) return null;
        long newEnd = Math.min(end + stride, targets);
        long start = newEnd - seqLen;
        return new long[] {start, end - start};
    }

    /** Sliding windows advancing by {@code stride} (1..seq_len) over the same targets as {@link #evaluate}. */
    public Result evaluateSliding(Function<String, float[]> params, int stride) {
        if (stride < 1 || stride > seqLen) throw new IllegalArgumentException("eval stride must be in [1, seq_len " + seqLen + "], got " + stride);
        long t0 = System.nanoTime();
        int batch = slidingBatch;
        if (forward == null) forward = backend.compile(Programs.forward(config, batch));
        load(forward, params);
        int v = config.vocabSize();
        int[] x = new int[batch * seqLen], y = new int[batch * seqLen];
        long[] from = new long[batch];
        int[] window = new int[seqLen + 1];
        double sum = 0;
        long scored = 0;
        long[] s = firstWindow(seqLen);
        while (s != null) {
            int rows = 0;
            while (rows < batch && s != null) {
                val.copy(s[0], window, 0, seqLen + 1);
                System.arraycopy(window, 0, x, rows * seqLen, seqLen);
                System.arraycopy(window, 1, y, rows * seqLen, seqLen);
                from[rows++] = s[1];
                s = nextWindow(s, targets, seqLen, stride);
            }
            for (int r = rows; r < batch; r++) { // padding rows: a copy of row 0, not scored
                System.arraycopy(x, 0, x, r * seqLen, seqLen);
                System.arraycopy(y, 0, y, r * seqLen, seqLen);
            }
            forward.setInts(Programs.IDS, x);
            forward.setInts(Programs.TARGETS, y);
            forward.run();
            float[] logits = forward.getFloats("logits");
            for (int r = 0; r < rows; r++) {
                for (int p = (int) from[r]; p < seqLen; p++) {
                    int off = (r * seqLen + p) * v;
                    sum += nll(logits, off, v, y[r * seqLen + p]);
                    scored++;
                }
            }
        }
        if (scored != targets) throw new IllegalStateException("sliding evaluation scored " + scored + " of " + targets + " targets");
        return result(sum, stride, t0);
    }

    /** {@code logsumexp(logits[off, off+v)) - logits[off + target]} in float64. */
    static double nll(float[] logits, int off, int v, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
        double z = 0;
        for (int i = 0; i < v; i++) z += Math.exp(logits[off + i] - max);
        return max + Math.log(z) - logits[off + target];
    }

    private Result result(double lossSum, int stride, long t0) {
        double loss = lossSum / targets;
        double bpb = table == null ? Double.NaN : bpb(loss, targets, bytes);
        return new Result(loss, targets, bytes, bpb, (System.nanoTime() - t0) / 1e9, stride);
    }

    private static void load(Executable e, Function<String, float[]> params) {
        for (Value p : e.program().params()) {
            float[] v = params.apply(p.name());
            if (v == null) throw new IllegalArgumentException("no values for parameter " + p.name());
            e.setFloats(p.name(), v);
        }
    }

    @Override
    public void close() {
        if (full != null && full != shared) full.close();
        if (rest != null) rest.close();
        if (forward != null) forward.close();
    }
}
