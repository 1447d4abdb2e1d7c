package dev.mixlab.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.mixlab.backend.Executable;
import dev.mixlab.ir.*;
import dev.mixlab.passes.MemoryPlan;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A program on the GPU: the memory plan's float and int arenas as two device allocations, and
 * the nodes turned once into a list of launches (kernels, cuBLAS calls, memsets) with their
 * arguments fixed. The first run executes the list on the stream; the second captures it as a CUDA
 * graph, which every later run replays with one launch. Inputs go through page-locked staging
 * buffers and asynchronous copies on the same stream.
 */
final class CudaExecutable implements Executable {
    private final CudaBackend cu;
    /** The numerics of this program (the backend's). */
    private final Cublas.Precision precision;
    private final Driver d;
    private final Program p;
    private final MemoryPlan plan;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment stream;
    private final long fBase, iBase, aux;
    private final List<Runnable> steps = new ArrayList<>();
    /** For each step, the node it belongs to (for per-op profiles). */
    private final List<Integer> stepNode = new ArrayList<>();
    private long[] opNanos;
    private MemorySegment[] events;
    private final Map<String, Value> byName = new HashMap<>();
    /** The node writing each value. */
    private final Map<Value, Node> producers = new HashMap<>();
    /** The nodes reading each value, for fusing a producer into its only consumer. */
    private final Map<Value, List<Node>> consumers = new HashMap<>();
    /**
     * Side buffers of forward/backward attention pairs on the tensor-core kernels, keyed by both nodes:
     * the forward writes each row's log-sum-exp and a copy of its output, so the backward is one fused
     * key-parallel kernel (dq by atomics) instead of a query pass and a key pass.
     */
    private final Map<Node, long[]> attnPairs = new HashMap<>();
    /** Runs of consecutive AdamW nodes, keyed by their last node, updated by one {@code adamw_multi} launch there. */
    private final Map<Node, List<Node>> adamRuns = new HashMap<>();
    private final java.util.Set<Node> inAdamRun = new java.util.HashSet<>();
    /** Elements per block of the multi-tensor kernels. */
    private static final long CHUNK = 16384;
    /** Residual adds that also compute the layer norm right after them (see {@link #planAddNorms}): add → norm. */
    private final Map<Node, Node> addNorms = new HashMap<>();
    private final java.util.Set<Node> normsInAdds = new java.util.HashSet<>();
    /** Nodes computed by an earlier node's launch: adds by their operand's producer, the loss gradient by the loss (see {@link FoldPlan}). */
    private FoldPlan folds;
    /** Dropout nodes folded into the residual add that consumes them (see {@link #fusedIntoAdd}). */
    private final Map<Value, Node> fusedDropouts = new HashMap<>();
    private final Map<String, MemorySegment> staging = new HashMap<>();
    private final Cublas blas;
    private MemorySegment graph;
    private int runs;
    private long peakBytes;
    /** Shared scratch of the GEMM attention path: scores and their gradients of one batch slice (nodes run in order). */
    private final long attnScratch;
    /** The bf16 copies of the products' operands (BF16 precision; null otherwise), and their arena. */
    private HalfPlan halves;
    private final long halfBase;

    CudaExecutable(CudaBackend cu, Program p) {
        this.cu = cu;
        this.precision = cu.precision();
        this.d = cu.driver;
        this.p = p;
        for (Node n : p.nodes()) {
            for (Value v : n.inputs()) consumers.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
            for (Value v : n.outputs()) producers.put(v, n);
        }
        halves = precision == Cublas.Precision.BF16 ? HalfPlan.of(p, this::needsHalf, this::writesHalf, this::readsHalf) : null;
        // values that exist only as bf16 get no float32 bytes (their pointer is 0: a kernel writing it fails loudly)
        this.plan = MemoryPlan.plan(p, v -> halves != null && halves.direct(v));
        this.stream = d.stream();
        fBase = d.malloc(plan.floatElements() * 4);
        iBase = d.malloc(Math.max(1, plan.intElements()) * 4);
        long auxBytes = auxBytes();
        aux = d.malloc(auxBytes);
        long ws = 32L << 20;
        long workspace = d.malloc(ws);
        long scratch = 0;
        for (Node n : p.nodes()) scratch = Math.max(scratch, attnScratchFor(n));
        attnScratch = scratch > 0 ? d.malloc(scratch) : 0;
        peakBytes = plan.floatElements() * 4 + plan.intElements() * 4 + auxBytes + ws + scratch;   // + attention pairs below
        blas = new Cublas(d, stream, workspace, ws, precision);
        for (List<Value> g : List.of(p.inputs(), p.params(), p.state())) for (Value v : g) byName.put(v.name(), v);
        p.outputs().forEach(byName::putIfAbsent);
        d.memsetAsync(fBase, plan.floatElements() * 4, stream);
        d.memsetAsync(iBase, Math.max(1, plan.intElements()) * 4, stream);
        peakBytes += pairAttention();
        planAdamRuns();
        planAddNorms();
        planFolds();
        if (halves != null) {     // placed again with the folds: a copy a fold writes early is kept apart from then on
            halves = HalfPlan.of(p, this::needsHalf, this::writesHalf, this::readsHalf,
                    n -> folds.foldedInto(n) != null ? folds.foldedInto(n).index() : n.index());
        }
        halfBase = halves != null && halves.bytes() > 0 ? d.malloc(halves.bytes()) : 0;
        if (halves != null) {
            peakBytes += halves.bytes();
            emitLeafHalves();
            for (int i = 0; i < steps.size(); i++) stepNode.add(0);
        }
        long auxOff = 0;
        for (Node n : p.nodes()) {
            int before = steps.size();
            auxOff = emit(n, auxOff);
            for (Value o : n.outputs()) {
                if (halves != null && halves.converted(o)) launch("f32_to_bf16", o.shape().size() / 4 + 1, args().ptr(ptr(o)).ptr(half(o)).u64(o.shape().size()));
            }
            for (int i = before; i < steps.size(); i++) stepNode.add(n.index());
        }
        d.sync(stream);
    }

    /**
     * Which producers' kernels can write a bf16 output in place of the float32 one (see {@link HalfPlan}):
     * products, activations and their gradients, unfused dropout, the warp-per-row norms, the
     * tensor-core attention's output and its key and value gradients, the loss gradient.
     */
    private boolean writesHalf(Node n, int output) {
        return switch (n.op()) {
            case MatMul m -> output == 0;
            case Unary u -> output == 0;
            case UnaryGrad u -> output == 0;
            case Dropout dr -> output == 0 && !fusedIntoAdd(n);
            case LayerNorm ln -> output == 0 && warpNormWidth(n.input(0).shape().last()) > 0;
            case RmsNorm rn -> output == 0 && warpNormWidth(n.input(0).shape().last()) > 0;
            case Attention a -> output == 0 && mma(n.input(0).shape(), a.chunk(), false);
            case AttentionGrad a -> output >= 1 && mma(n.input(0).shape(), a.chunk(), true);
            case CrossEntropyGrad c -> true;
            default -> false;
        };
    }

    /**
     * Which inputs a node always reads from their bf16 copies (see {@link HalfPlan}): both operands of a
     * product, and q, k, v (and dy) of the tensor-core attention, whose kernels then stage bf16 tiles
     * without converting.
     */
    private boolean needsHalf(Node n, int input) {
        return switch (n.op()) {
            case MatMul m -> true;
            case Attention a -> input < 3 && mma(n.input(0).shape(), a.chunk(), false);
            case AttentionGrad a -> input < 4 && mma(n.input(0).shape(), a.chunk(), true);
            default -> false;
        };
    }

    /** Which inputs a node's kernels can read as bf16 where they exist only so: the above, and activations with their gradients. */
    private boolean readsHalf(Node n, int input) {
        return needsHalf(n, input) || switch (n.op()) {
            case Unary u -> input == 0;
            case UnaryGrad u -> input <= 1;
            default -> false;
        };
    }

    /** The device address of v's bf16 copy. */
    private long half(Value v) {
        return halfBase + halves.offset(v);
    }

    /**
     * Where v exists only as bf16 (see {@link HalfPlan#direct}): the address its producer writes and its
     * readers read (the kernels' yh/xh arguments), or 0 where v is float32.
     */
    private long directHalf(Value v) {
        return halves != null && halves.direct(v) ? half(v) : 0;
    }

    /** One launch at the start of a run: the bf16 copies of the parameters (and other leaves) that products read. */
    private void emitLeafHalves() {
        List<Value> xs = halves.leaves();
        if (xs.isEmpty()) return;
        var L = java.lang.foreign.ValueLayout.JAVA_LONG;
        MemorySegment src = arena.allocate(8L * xs.size(), 8), dst = arena.allocate(8L * xs.size(), 8), ns = arena.allocate(8L * xs.size(), 8);
        long[] sizes = new long[xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            sizes[i] = xs.get(i).shape().size();
            src.setAtIndex(L, i, ptr(xs.get(i)));
            dst.setAtIndex(L, i, half(xs.get(i)));
            ns.setAtIndex(L, i, sizes[i]);
        }
        long[] ch = chunkTable(sizes);
        launch("f32_to_bf16_multi", Math.toIntExact(ch[2]), 256, 0,
                args().ptr(upload(src)).ptr(upload(dst)).ptr(upload(ns)).ptr(ch[0]).ptr(ch[1]).u64(CHUNK));
    }

    /** Device bytes this executable holds (arenas, scratch, cuBLAS workspace). */
    @Override
    public long deviceBytes() {
        return peakBytes;
    }

    private long auxBytes() {
        long b = 0;
        for (Node n : p.nodes()) b += auxFor(n);
        return Math.max(b, 256);
    }

    /** Scratch a node needs besides its outputs: per-row losses, double accumulators. */
    private static long auxFor(Node n) {
        return switch (n.op()) {
            case CrossEntropy c -> align(n.input(0).shape().leadingSize() * 4);
            case AttentionGrad a -> align(n.input(0).shape().leadingSize() * 2 * 4);   // (lse, D) per query row and head
            case SumSquares s -> 256;
            case GradClip g -> 256;
            case FrobeniusNormalize f -> 256;
            case CausalConvGrad c -> {
                Shape x = n.input(0).shape();
                int rows = x.dim(0) * x.dim(1), parts = (rows + convRowsPerPart(rows) - 1) / convRowsPerPart(rows);
                yield align((long) parts * x.dim(2) * n.input(1).shape().dim(1) * 4);
            }
            case GatedDeltaScan g when GdnChunks.of(n) != null -> GdnChunks.of(n).layout(false)[6];
            case GatedDeltaScanGrad g when GdnChunks.of(n) != null -> GdnChunks.of(n).layout(true)[10];
            case GatedDeltaScanGrad g -> {
                Shape q = n.input(0).shape();
                long nc = (q.dim(1) + GDN_BWD_CHUNK - 1) / GDN_BWD_CHUNK, dv = n.input(2).shape().dim(3);
                yield align((long) q.dim(0) * q.dim(2) * (nc + GDN_BWD_CHUNK + 1) * q.dim(3) * dv * 4) + gdnPartBytes(q, (int) dv);
            }
            case Retention r when SsdChunks.retention(n) != null -> SsdChunks.retention(n).retentionExtra(false) + SsdChunks.retention(n).layout(false)[3];
            case RetentionGrad r when SsdChunks.retention(n) != null -> SsdChunks.retention(n).retentionExtra(true) + SsdChunks.retention(n).layout(true)[5];
            case Mlstm m when MlstmChunks.of(n) != null -> MlstmChunks.of(n).layout(false)[5];
            case MlstmGrad m when MlstmChunks.of(n) != null -> MlstmChunks.of(n).layout(true)[9];
            case WkvGrad w when narrowWkv(n) -> align(n.input(0).shape().size() * 4);
            case Wkv w when WkvChunks.of(n) != null -> WkvChunks.of(n).layout(false)[3];
            case WkvGrad w when WkvChunks.of(n) != null -> WkvChunks.of(n).layout(true)[6];
            case SsdScan g when SsdChunks.of(n) != null -> SsdChunks.of(n).layout(false)[3];
            case SsdScanGrad g when SsdChunks.of(n) != null -> SsdChunks.of(n).layout(true)[7];
            case SsdScanGrad g -> {
                Shape x = n.input(0).shape();
                long rows = x.leadingSize() * ssdRowBlocks(x.dim(3));
                yield 2 * align(rows * n.input(2).shape().dim(3) * 4) + align(rows * 4);
            }
            default -> 0;
        };
    }

    /** Rows per partial sum of the convolution's weight gradient: about 128 parts, at least 64 rows each. */
    private static int convRowsPerPart(int rows) {
        return Math.max(64, (rows + 127) / 128);
    }

    /** Columns of the delta-rule state per block of the gdn kernels (GDN_COLS in kernels.cu); d_k is at most 16·16. */
    private static final int GDN_COLS = 8, GDN_MAX_DK = 256;

    /** The gated-delta backward's per-column-block partial sums: dq, dk [rows·dk] and dg, dbeta [rows] each. */
    private static long gdnPartBytes(Shape q, int dv) {
        long rows = q.leadingSize(), ncb = (dv + GDN_COLS - 1) / GDN_COLS;
        return align(ncb * rows * (2L * q.dim(3) + 2) * 4);
    }

    private static void checkGdn(int dk) {
        if (dk > GDN_MAX_DK) throw new CudaException("gated_deltanet head_dim " + dk + " > " + GDN_MAX_DK + " is not supported by the CUDA kernels");
    }

    /** State rows per block of the SSD kernels (SSD_ROWS in kernels.cu); d_state is at most 16·16. */
    private static final int SSD_ROWS = 32, SSD_MAX_N = 256;

    private static int ssdRowBlocks(int p) {
        return (p + SSD_ROWS - 1) / SSD_ROWS;
    }

    private static void checkSsd(int n) {
        if (n > SSD_MAX_N) throw new CudaException("mamba2 d_state " + n + " > " + SSD_MAX_N + " is not supported by the CUDA kernels");
    }

    /** Tokens per recomputed chunk in the gated-delta backward kernel (its scratch holds L+1 states per (b, h)). */
    private static final int GDN_BWD_CHUNK = 32;

    private static long align(long b) {
        return (b + 255) / 256 * 256;
    }

    private long ptr(Value v) {
        if (!plan.placed(v)) return 0;
        return (v.dtype() == DType.I32 ? iBase : fBase) + 4L * plan.offset(v);
    }

    /** {B, T, H, dk, dv} of a scan op; the kernels keep a state row of at most {@code SCAN_MAXD} floats per thread. */
    private static int[] scanDims(Node n) {
        Shape q = n.input(0).shape();
        int[] d = {q.dim(0), q.dim(1), q.dim(2), q.dim(3), n.input(2).shape().dim(3)};
        if (d[3] > SCAN_MAXD || d[4] > SCAN_MAXD) {
            throw new CudaException(n.op().name() + ": the CUDA scan kernels support key and value head widths up to "
                    + SCAN_MAXD + ", got " + d[3] + " and " + d[4]);
        }
        return d;
    }

    private static final int SCAN_MAXD = 256, SCAN_MAXH = 64;

    /** The per-head decays as the kernels' {@code ScanGammas} struct (SCAN_MAXH floats). */
    private static float[] scanGammas(List<Double> gammas) {
        if (gammas.size() > SCAN_MAXH) {
            throw new CudaException("retention: the CUDA kernels support up to " + SCAN_MAXH + " heads, got " + gammas.size());
        }
        float[] g = new float[SCAN_MAXH];
        for (int h = 0; h < gammas.size(); h++) g[h] = (float) (double) gammas.get(h);
        return g;
    }

    private static int grid(long n) {
        return (int) Math.max(1, Math.min((n + 255) / 256, 65535L * 16));
    }

    private void launch(String fn, long n, Args a) {
        launch(fn, grid(n), 256, 0, a);
    }

    private void launch(String fn, int gridX, int block, int shared, Args a) {
        launch(fn, gridX, 1, block, shared, a);
    }

    private void launch(String fn, int gridX, int gridY, int block, int shared, Args a) {
        MemorySegment f = cu.function(fn);
        MemorySegment params = a.build();
        if (shared > 48 * 1024) d.setMaxDynamicShared(f, shared);
        steps.add(() -> d.launch(f, gridX, gridY, 1, block, shared, stream, params));
    }

    /** A kernel over n elements of which the last nb repeat (threads over those nb, grid rows over the repeats). */
    private void launchBroadcast(String fn, long n, long nb, Args a) {
        long outer = n / Math.max(1, nb);
        int gx = (int) Math.max(1, Math.min((nb + 255) / 256, 65535));
        int gy = (int) Math.max(1, Math.min(outer, Math.min(65535, (4096 + gx - 1) / gx)));
        launch(fn, gx, gy, 256, 0, a);
    }

    private void zero(long ptr, long bytes) {
        steps.add(() -> d.memsetAsync(ptr, bytes, stream));
    }

    private Args args() {
        return new Args(arena);
    }

    /**
     * How an attention node runs, chosen once per node. GEMM (the default): cuBLAS forms the scores of a
     * slice of the batch on tensor cores, row kernels do the softmax and its gradient, cuBLAS the
     * products with v, dy, k and q — the causal half of the work is wasted, but tensor cores are ~10x
     * the SIMT rate, which wins up to long contexts. It needs scratch for the scores of at least one
     * batch entry; where one entry's scores exceed the budget, the tiled flash kernels (head_dim 32 or
     * 64) or the row kernels (any head_dim) run instead, whose memory does not grow with T².
     * Chunked attention ({@code chunk} > 0) runs on the flash or row kernels, which know the chunk mask.
     * {@code -Dmixlab.cuda.attention=gemm|flash|rows|mma} forces a choice (for parity tests and profiles;
     * mma: the bf16 tensor-core kernels).
     */
    private enum AttnImpl { GEMM, FLASH, ROWS }

    /**
     * Whether attention over q runs on the bf16 tensor-core flash kernels ({@code mma_fwd_*} for
     * head_dim 32, 64 or 128; {@code mma_bwd_q_*}/{@code mma_bwd_kv_*} for 32 or 64): the default
     * unless products are float32 throughout ({@code -Dmixlab.cuda.fp32=true}, the parity suite) or
     * another implementation is forced. Otherwise {@link #attnImpl} decides. Why: no T² scratch, and
     * tensor cores at bf16 rate; q, k, v, dy and the probabilities are rounded to bf16, all sums and
     * the softmax stay float32.
     */
    private boolean mma(Shape q, int chunk, boolean backward) {
        int hd = q.dim(3);
        if (chunk > 0) return false;
        String forced = System.getProperty("mixlab.cuda.attention", "auto");
        boolean fits = hd == 32 || hd == 64 || (hd == 128 && !backward);
        if (forced.equals("mma")) return fits;
        return forced.equals("auto") && fits && precision != Cublas.Precision.FP32
                && !Boolean.getBoolean("mixlab.cuda.noflash");
    }

    /** Scratch budget of the GEMM attention path ({@code -Dmixlab.cuda.attentionScratchMiB}, default 1024). */
    private static long attnBudget() {
        return Long.getLong("mixlab.cuda.attentionScratchMiB", 1024L) << 20;
    }

    /** Scratch bytes per batch entry of the GEMM path: scores and their gradients, [H, T, T] each. */
    private static long attnBytesPerEntry(Shape q) {
        return 2L * q.dim(2) * q.dim(1) * (long) q.dim(1) * 4;
    }

    private static AttnImpl attnImpl(Shape q, int chunk) {
        int hd = q.dim(3);
        if (chunk > 0) return (hd == 32 || hd == 64) && !Boolean.getBoolean("mixlab.cuda.noflash") ? AttnImpl.FLASH : AttnImpl.ROWS;
        boolean flashable = hd == 32 || hd == 64;
        String forced = System.getProperty("mixlab.cuda.attention", Boolean.getBoolean("mixlab.cuda.noflash") ? "rows" : "auto");
        return switch (forced) {
            case "gemm", "mma" -> AttnImpl.GEMM;
            case "flash" -> flashable ? AttnImpl.FLASH : AttnImpl.ROWS;
            case "rows" -> AttnImpl.ROWS;
            case "auto" -> attnBytesPerEntry(q) <= attnBudget() ? AttnImpl.GEMM : flashable ? AttnImpl.FLASH : AttnImpl.ROWS;
            default -> throw new CudaException("-Dmixlab.cuda.attention=" + forced + " is not one of auto, gemm, flash, rows, mma");
        };
    }

    /** Batch entries per GEMM-attention slice: as many as the scratch budget holds (at least one). */
    private static int attnSlice(Shape q) {
        return (int) Math.max(1, Math.min(q.dim(0), attnBudget() / attnBytesPerEntry(q)));
    }

    private long attnScratchFor(Node n) {
        Shape q = n.input(0).shape();
        int chunk = chunkOf(n);
        boolean att = (n.op() instanceof Attention && !mma(q, chunk, false)) || (n.op() instanceof AttentionGrad && !mma(q, chunk, true));
        if (!att || attnImpl(q, chunk) != AttnImpl.GEMM) return 0;
        return attnSlice(q) * attnBytesPerEntry(q) / (n.op() instanceof Attention ? 2 : 1);
    }

    private boolean flash(Shape q, int chunk) {
        return attnImpl(q, chunk) == AttnImpl.FLASH;
    }

    /** The chunk of an attention node's mask (0 for other nodes). */
    private static int chunkOf(Node n) {
        return switch (n.op()) {
            case Attention a -> a.chunk();
            case AttentionGrad a -> a.chunk();
            default -> 0;
        };
    }

    /**
     * Finds forward/backward attention pairs (the gradient node reads the same q, k, v and seed, with
     * the same op) that both run on the tensor-core kernels, and gives each pair its side buffers
     * (lse and D per query row, and the forward output). Returns the bytes allocated.
     */
    private long pairAttention() {
        if (Boolean.getBoolean("mixlab.cuda.nofusedbwd")) return 0;
        Map<List<Value>, Node> forwards = new HashMap<>();
        for (Node n : p.nodes()) {
            if (n.op() instanceof Attention && mma(n.input(0).shape(), chunkOf(n), false)) forwards.put(n.inputs(), n);
        }
        List<Node[]> pairs = new ArrayList<>();
        java.util.Set<Node> paired = new java.util.HashSet<>();
        for (Node n : p.nodes()) {
            if (!(n.op() instanceof AttentionGrad g) || !mma(n.input(0).shape(), chunkOf(n), true)) continue;
            List<Value> key = new ArrayList<>(n.inputs().subList(0, 3));
            if (g.dropout() > 0) key.add(n.input(4));
            Node f = forwards.get(key);
            if (f == null || paired.contains(f)) continue;
            Attention a = (Attention) f.op();
            if (a.heads() != g.heads() || a.kvHeads() != g.kvHeads() || !MaskArgs.of(a).equals(MaskArgs.of(g))) continue;
            pairs.add(new Node[] {f, n});
            paired.add(f);
        }
        // a pair's buffers are busy from its forward to its backward; pairs that do not overlap (the
        // micro-batches of gradient accumulation, one after another) share them
        pairs.sort(java.util.Comparator.comparingInt(pr -> pr[0].index()));
        List<long[]> pool = new ArrayList<>();     // {lse ptr, lse bytes, out ptr, out bytes, busy until}
        long bytes = 0;
        for (Node[] pr : pairs) {
            Shape q = pr[1].input(0).shape();
            long lse = 2L * q.leadingSize() * 4, out = q.size() * 4;
            long[] buf = null;
            for (long[] b : pool) {
                if (b[4] < pr[0].index() && b[1] >= lse && b[3] >= out) {
                    buf = b;
                    break;
                }
            }
            if (buf == null) {
                buf = new long[] {d.malloc(lse), lse, d.malloc(out), out, 0};
                pool.add(buf);
                bytes += lse + out;
            }
            buf[4] = pr[1].index();
            long[] side = {buf[0], buf[2]};
            attnPairs.put(pr[0], side);
            attnPairs.put(pr[1], side);
        }
        return bytes;
    }

    /**
     * A layer norm whose input is the residual add just before it (the next node) is computed by the add's
     * kernel: the stream is summed and normalised in one pass and not read back. Only where the norm's
     * output overlaps none of the add's inputs or its output (they are all live during that kernel).
     */
    private void planAddNorms() {
        if (Boolean.getBoolean("mixlab.cuda.noaddnorm")) return;
        List<Node> nodes = p.nodes();
        for (int i = 1; i < nodes.size(); i++) {
            Node n = nodes.get(i), m = nodes.get(i - 1);
            if (!(n.op() instanceof LayerNorm) || !(m.op() instanceof Add) || n.input(0) != m.output()) continue;
            if (warpNormWidth(n.input(0).shape().last()) == 0) continue;
            if (!m.input(0).shape().equals(m.input(1).shape()) || m.input(0) == m.input(1)) continue;
            long[] y = range(n.output());
            boolean clear = !overlaps(y, range(m.output()));
            for (Value v : addOperands(m)) clear &= !overlaps(y, range(v));
            if (!clear) continue;
            addNorms.put(m, n);
            normsInAdds.add(n);
        }
    }

    /**
     * Plans the folds: adds into their operands' producers, except those computed with the norm after them
     * or with a dropout folded in, and the cross-entropy gradient into the loss
     * ({@code -Dmixlab.cuda.nofold=true} turns them off). At BF16 precision products read only the bf16
     * copies of their operands, not their float32 bytes.
     */
    private void planFolds() {
        boolean off = Boolean.getBoolean("mixlab.cuda.nofold");
        folds = FoldPlan.of(p, plan, g -> !off && (!(g.op() instanceof Add) || !addNorms.containsKey(g) && addOperands(g).equals(g.inputs()))
                        && !(g.op() instanceof Dropout && fusedIntoAdd(g)),
                CudaExecutable::accumulates, CudaExecutable::drops, this::epilogueFits, n -> n.op() instanceof Add ? addOperands(n)
                        : precision == Cublas.Precision.BF16 && n.op() instanceof MatMul ? List.of() : n.inputs());
    }

    /**
     * Whether node g runs in the cuBLASLt epilogue of product prod after the chain already there: a bias
     * add of the product's output (read by nothing else) as the first step, or a tanh GELU last, whose
     * pre-activation (where anything else reads it) cuBLASLt writes as aux in the output's storage
     * type, so both must be bf16 or both float32; after a bias the GELU's output must be float32 (measured
     * on the H100: no algorithm for bf16 output with a float32 bias). ({@code -Dmixlab.cuda.noepilogue=true}
     * turns this off.)
     */
    private boolean epilogueFits(Node prod, List<Node> chain, Node g) {
        if (Boolean.getBoolean("mixlab.cuda.noepilogue") || ((MatMul) prod.op()).mnk(prod.inputTypes())[2] == 0) return false;
        if (consumers.get(prod.output()).size() != 1 && !(g.op() instanceof Unary)) return false;
        return switch (g.op()) {
            case Add a -> chain.isEmpty() && consumers.get(prod.output()).size() == 1 && !p.outputs().containsValue(prod.output());
            case Unary u -> {
                if (u.fn() != UnaryFn.GELU_TANH || g.output().shape().last() % 8 != 0) yield false;
                Value pre = g.input(0);
                boolean auxNeeded = consumers.get(pre).size() > 1 || p.outputs().containsValue(pre);
                // the float32 bias goes with a float32 output only (cuBLASLt offers no bf16-output algorithm with it)
                if (!chain.isEmpty() && bf16Only(g.output())) yield false;
                yield !auxNeeded || bf16Only(pre) == bf16Only(g.output());
            }
            default -> false;
        };
    }

    /** Whether v exists only as bf16 (decided before the bf16 arena's address is known, unlike {@link #directHalf}). */
    private boolean bf16Only(Value v) {
        return halves != null && halves.direct(v);
    }

    /** The epilogue of product n's launch (see {@link #epilogueFits}), or null; the value it finally writes goes to out[0]. */
    private Cublas.Epilogue epilogue(Node n, Value[] out) {
        List<Node> chain = folds.foldedAt(n);
        if (chain.isEmpty() || !(chain.getFirst().op() instanceof Unary || FoldPlan.bias(chain.getFirst()) && folds.addOf(n) == null)) return null;
        long bias = 0, aux = 0;
        boolean gelu = false;
        for (Node g : chain) {
            if (g.op() instanceof Add) bias = ptr(g.input(1));
            if (g.op() instanceof Unary) {
                gelu = true;
                if (folds.written(n, g.input(0))) aux = directHalf(g.input(0)) != 0 ? directHalf(g.input(0)) : ptr(g.input(0));
            }
        }
        out[0] = chain.getLast().output();
        return Cublas.Epilogue.of(bias, gelu, aux, out[0].shape().last());
    }

    /** Where node n's folded add reads its other operand (see {@link FoldPlan}), or 0. */
    private long accOperand(Node n) {
        Value a = folds.operand(n);
        return a != null ? ptr(a) : 0;
    }

    /** Where node n writes its first output: the folded add's output, or out. */
    private long accDst(Node n, long out) {
        Node add = folds.addOf(n);
        return add != null ? ptr(add.output()) : out;
    }

    /**
     * Whether node n's kernel can add a float32 tensor into output v as it writes it: products (cuBLASLt
     * with beta = 1) and the warp-per-row norm gradients' dx.
     */
    static boolean accumulates(Node n, Value v) {
        return switch (n.op()) {
            case MatMul m -> m.mnk(n.inputTypes())[2] > 0;
            case LayerNormGrad g -> v == n.outputs().get(0) && warpNormWidth(v.shape().last()) > 0;
            case RmsNormGrad g -> v == n.outputs().get(0) && warpNormWidth(v.shape().last()) > 0;
            default -> false;
        };
    }

    /** Whether node n's kernel can also write the dropout of its first output (or of the add folded into it): the warp-per-row norm gradients. */
    static boolean drops(Node n) {
        return (n.op() instanceof LayerNormGrad || n.op() instanceof RmsNormGrad) && warpNormWidth(n.input(0).shape().last()) > 0;
    }

    /**
     * The kernel arguments of the dropout folded into norm gradient n (see {@link FoldPlan}): seed, salt,
     * probability, and where the masked copy goes (its float32 bytes, or its bf16 copy where it lives only
     * so); zeros where none is folded.
     */
    private Args dropoutArgs(Args a, Node n) {
        Node dr = folds.dropoutOf(n);
        if (dr == null) return a.ptr(0).i32(0).f32(0f).ptr(0).ptr(0);
        Dropout d = (Dropout) dr.op();
        long yh = directHalf(dr.output());
        return a.ptr(ptr(dr.input(1))).i32(d.salt()).f32((float) d.p()).ptr(yh != 0 ? 0 : ptr(dr.output())).ptr(yh);
    }

    /** The float operands an add kernel reads: its two inputs, or the stream and the dropped branch's input. */
    private List<Value> addOperands(Node add) {
        List<Value> vs = new ArrayList<>();
        for (Value v : add.inputs()) {
            Node d = producers.get(v);
            vs.add(d != null && d.op() instanceof Dropout && fusedIntoAdd(d) ? d.input(0) : v);
        }
        return vs;
    }

    private long[] range(Value v) {
        long a = ptr(v);
        return new long[] {a, a + plan.elements(v) * 4};
    }

    private static boolean overlaps(long[] x, long[] y) {
        return x[0] < y[1] && y[0] < x[1];
    }

    /** The add's launch, with the layer norm after it folded in. */
    private void emitAddNorm(Node m, Node ln, long x, long br, long seed, int salt, float pDrop) {
        LayerNorm l = (LayerNorm) ln.op();
        Shape s = ln.input(0).shape();
        long w = l.weight() ? ptr(ln.input(1)) : 0, b = l.bias() ? ptr(ln.input(l.weight() ? 2 : 1)) : 0;
        long rows = s.leadingSize();
        launch("add_layernorm_w" + warpNormWidth(s.last()), Math.toIntExact((rows + 7) / 8), 256, 0, args().ptr(x).ptr(br)
                .ptr(ptr(m.output())).ptr(w).ptr(b).ptr(ptr(ln.output())).u64(rows).i32(s.last()).f32((float) l.eps())
                .ptr(seed).i32(salt).f32(pDrop).ptr(directHalf(ln.output())));
    }

    /**
     * Groups consecutive AdamW nodes (the optimizer's updates, which only read gradients and update
     * their own parameter and moments in place, so nothing between the first and the last of a run
     * reads what they write) for one multi-tensor launch: 51 launches become one for nanoGPT.
     */
    private void planAdamRuns() {
        if (Boolean.getBoolean("mixlab.cuda.nomultitensor")) return;
        List<Node> run = new ArrayList<>();
        for (Node n : p.nodes()) {
            if (n.op() instanceof AdamW) {
                run.add(n);
                continue;
            }
            closeAdamRun(run);
        }
        closeAdamRun(run);
    }

    private void closeAdamRun(List<Node> run) {
        if (run.size() > 1) {
            List<Node> r = List.copyOf(run);
            adamRuns.put(r.getLast(), r);
            inAdamRun.addAll(r);
        }
        run.clear();
    }

    /** Uploads a chunk table (segment index and start per block of {@link #CHUNK} elements); returns {seg, start, blocks}. */
    private long[] chunkTable(long[] sizes) {
        List<long[]> chunks = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) for (long st = 0; st < sizes[i]; st += CHUNK) chunks.add(new long[] {i, st});
        MemorySegment seg = arena.allocate(4L * chunks.size(), 4), start = arena.allocate(8L * chunks.size(), 8);
        for (int c = 0; c < chunks.size(); c++) {
            seg.setAtIndex(JAVA_INT, c, (int) chunks.get(c)[0]);
            start.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, c, chunks.get(c)[1]);
        }
        return new long[] {upload(seg), upload(start), chunks.size()};
    }

    private long upload(MemorySegment host) {
        long dev = d.malloc(Math.max(1, host.byteSize()));
        d.htod(dev, host, host.byteSize());
        peakBytes += host.byteSize();
        return dev;
    }

    /** One {@code adamw_multi} launch for a run of AdamW nodes: a segment table (the AdamSeg layout of kernels.cu) and chunks. */
    private void emitAdamRun(List<Node> run) {
        MemorySegment segs = arena.allocate(80L * run.size(), 8);
        long[] sizes = new long[run.size()];
        var L = java.lang.foreign.ValueLayout.JAVA_LONG;
        for (int i = 0; i < run.size(); i++) {
            Node n = run.get(i);
            AdamW a = (AdamW) n.op();
            long o = 80L * i;
            sizes[i] = n.input(0).shape().size();
            long[] ptrs = {ptr(n.input(0)), ptr(n.input(1)), ptr(n.input(2)), ptr(n.input(3)), sizes[i], ptr(n.input(4)),
                    ptr(n.input(5)), ptr(n.input(6))};
            for (int k = 0; k < ptrs.length; k++) segs.set(L, o + 8L * k, ptrs[k]);
            segs.set(JAVA_FLOAT, o + 64, (float) a.beta1());
            segs.set(JAVA_FLOAT, o + 68, (float) a.beta2());
            segs.set(JAVA_FLOAT, o + 72, (float) a.eps());
            segs.set(JAVA_FLOAT, o + 76, (float) a.weightDecay());
        }
        long table = upload(segs);
        long[] ch = chunkTable(sizes);
        launch("adamw_multi", Math.toIntExact(ch[2]), 256, 0, args().ptr(table).ptr(ch[0]).ptr(ch[1]).u64(CHUNK));
    }

    /** Σ x² over the values into the double at acc, in one launch. */
    private void emitSumSquares(List<Value> xs, long acc) {
        MemorySegment ptrs = arena.allocate(8L * xs.size(), 8), ns = arena.allocate(8L * xs.size(), 8);
        long[] sizes = new long[xs.size()];
        var L = java.lang.foreign.ValueLayout.JAVA_LONG;
        for (int i = 0; i < xs.size(); i++) {
            sizes[i] = xs.get(i).shape().size();
            ptrs.setAtIndex(L, i, ptr(xs.get(i)));
            ns.setAtIndex(L, i, sizes[i]);
        }
        long[] ch = chunkTable(sizes);
        launch("sumsq_multi", Math.toIntExact(ch[2]), 256, 0, args().ptr(upload(ptrs)).ptr(upload(ns)).ptr(ch[0]).ptr(ch[1]).u64(CHUNK).ptr(acc));
    }

    /**
     * "c" for the tensor-core attention kernels specialised to the plain causal mask: no window, softcap or
     * ALiBi, and every dropout index (b·H + h)·T² + i·T + j below 2³² so it hashes in 32-bit arithmetic.
     * {@code -Dmixlab.cuda.generalMask=true} keeps the general kernels (for comparisons).
     */
    static String mmaMask(Shape q, int heads, MaskArgs m) {
        boolean plain = m.window() <= 0 && m.softcap() == 0 && !m.alibi() && (long) q.dim(0) * heads * q.dim(1) * q.dim(1) < (1L << 32)
                && !Boolean.getBoolean("mixlab.cuda.generalMask");
        return plain ? "c" : "";
    }

    /** The tensor-core attention kernels' variant: "h" reads the bf16 copies of q, k, v, dy (BF16 precision). */
    private String mmaIn() {
        return halves != null ? "h" : "";
    }

    /** Where the tensor-core attention kernels read input v: its bf16 copy at BF16 precision, else the float32 tensor. */
    private long attnIn(Value v) {
        return halves != null ? half(v) : ptr(v);
    }

    /**
     * The key-parallel tensor-core backward: dk, dv from each row's (lse, D) at lseD, and with dq
     * non-zero (a linked pair, dq zeroed first) dq too, by atomics.
     */
    private void mmaBackwardKv(Node n, AttentionGrad a, long seed, long lseD, long dq) {
        Shape q = n.input(0).shape();
        launch("mma_bwd_kv" + mmaMask(q, a.heads(), MaskArgs.of(a)) + "_" + mmaIn() + q.dim(3), (q.dim(1) + 63) / 64, q.dim(0) * a.kvHeads(), 128, 0,
                args().ptr(attnIn(n.input(0))).ptr(attnIn(n.input(1))).ptr(attnIn(n.input(2))).ptr(attnIn(n.input(3))).ptr(lseD)
                        .ptr(ptr(n.outputs().get(1))).ptr(ptr(n.outputs().get(2)))
                        .i32(q.dim(1)).i32(a.heads()).i32(a.kvHeads()).mask(MaskArgs.of(a), seed).ptr(dq)
                        .ptr(directHalf(n.outputs().get(1))).ptr(directHalf(n.outputs().get(2))));
    }

    /** Forward attention of node n on the GEMM path (see {@link AttnImpl}). */
    private void attentionGemm(Node n, Attention a) {
        Shape s0 = n.input(0).shape();
        int bb = s0.dim(0), t = s0.dim(1), h = a.heads(), kv = a.kvHeads(), hd = s0.dim(3), group = h / kv, nb = attnSlice(s0);
        long q = ptr(n.input(0)), k = ptr(n.input(1)), v = ptr(n.input(2)), out = ptr(n.output()), sc = attnScratch;
        long seed = a.dropout() > 0 ? ptr(n.input(3)) : 0;
        long tt = (long) t * t;
        for (int b0 = 0; b0 < bb; b0 += nb) {
            int cnt = Math.min(nb, bb - b0);
            for (int hh = 0; hh < h; hh++) {
                int kh = hh / group;
                steps.add(blas.gemm(q + 4L * ((long) b0 * t * h * hd + (long) hh * hd), h * hd, (long) t * h * hd, false,
                        k + 4L * ((long) b0 * t * kv * hd + (long) kh * hd), kv * hd, (long) t * kv * hd, true,
                        sc + 4L * hh * tt, t, h * tt, t, t, hd, 1f, 0f, cnt));
            }
            long rows = (long) cnt * h * t;
            launch("attn_probs", Math.toIntExact((rows + 3) / 4), 128, 0, args().ptr(sc).u64(rows).i32(t).i32(h).i32(b0)
                    .mask(MaskArgs.of(a), seed));
            for (int hh = 0; hh < h; hh++) {
                int kh = hh / group;
                steps.add(blas.gemm(sc + 4L * hh * tt, t, h * tt, false,
                        v + 4L * ((long) b0 * t * kv * hd + (long) kh * hd), kv * hd, (long) t * kv * hd, false,
                        out + 4L * ((long) b0 * t * h * hd + (long) hh * hd), h * hd, (long) t * h * hd, t, hd, t, 1f, 0f, cnt));
            }
        }
    }

    /** Attention gradients of node n on the GEMM path: scores and dy·vᵀ by cuBLAS, then dS, then dv, dq, dk. */
    private void attentionGradGemm(Node n, AttentionGrad a) {
        Shape s0 = n.input(0).shape();
        int bb = s0.dim(0), t = s0.dim(1), h = a.heads(), kv = a.kvHeads(), hd = s0.dim(3), group = h / kv, nb = attnSlice(s0);
        long q = ptr(n.input(0)), k = ptr(n.input(1)), v = ptr(n.input(2)), dy = ptr(n.input(3));
        long dq = ptr(n.outputs().get(0)), dk = ptr(n.outputs().get(1)), dv = ptr(n.outputs().get(2));
        long tt = (long) t * t, sc = attnScratch, g = attnScratch + 4L * nb * h * tt;
        for (int b0 = 0; b0 < bb; b0 += nb) {
            int cnt = Math.min(nb, bb - b0);
            long qo = (long) b0 * t * h * hd, ko = (long) b0 * t * kv * hd;
            for (int hh = 0; hh < h; hh++) {
                long qh = 4L * (qo + (long) hh * hd), kh = 4L * (ko + (long) (hh / group) * hd);
                steps.add(blas.gemm(q + qh, h * hd, (long) t * h * hd, false, k + kh, kv * hd, (long) t * kv * hd, true,
                        sc + 4L * hh * tt, t, h * tt, t, t, hd, 1f, 0f, cnt));
                steps.add(blas.gemm(dy + qh, h * hd, (long) t * h * hd, false, v + kh, kv * hd, (long) t * kv * hd, true,
                        g + 4L * hh * tt, t, h * tt, t, t, hd, 1f, 0f, cnt));
            }
            long rows = (long) cnt * h * t;
            launch("attn_probs_grad", Math.toIntExact((rows + 3) / 4), 128, 0, args().ptr(sc).ptr(g).u64(rows).i32(t).i32(h).i32(b0)
                    .mask(MaskArgs.of(a), a.dropout() > 0 ? ptr(n.input(4)) : 0));
            for (int hh = 0; hh < h; hh++) {
                long qh = 4L * (qo + (long) hh * hd), kh = 4L * (ko + (long) (hh / group) * hd);
                float beta = hh % group == 0 ? 0f : 1f;    // the group's query heads sum into one kv head
                steps.add(blas.gemm(sc + 4L * hh * tt, t, h * tt, true, dy + qh, h * hd, (long) t * h * hd, false,
                        dv + kh, kv * hd, (long) t * kv * hd, t, hd, t, 1f, beta, cnt));
                steps.add(blas.gemm(g + 4L * hh * tt, t, h * tt, false, k + kh, kv * hd, (long) t * kv * hd, false,
                        dq + qh, h * hd, (long) t * h * hd, t, hd, t, 1f, 0f, cnt));
                steps.add(blas.gemm(g + 4L * hh * tt, t, h * tt, true, q + qh, h * hd, (long) t * h * hd, false,
                        dk + kh, kv * hd, (long) t * kv * hd, t, hd, t, 1f, beta, cnt));
            }
        }
    }

    /** The attention kernels keep one head row in 8 registers per lane. */
    private static void checkHeadDim(int hd) {
        if (hd > 256) throw new CudaException("head_dim " + hd + " > 256 is not supported by the CUDA attention kernels yet");
    }

    /**
     * Registers per lane of the warp-per-row norm kernels for rows of d (4, 8, 12, 16 or 32: d ≤ 1024), or 0
     * for wider rows, which take the block-per-row kernels.
     */
    private static int warpNormWidth(int d) {
        for (int c : new int[] {4, 8, 12, 16, 32}) if (d <= 32 * c) return c;
        return 0;
    }

    /**
     * Blocks of the warp-per-row norm gradients: two per SM, as many as fit at once up to width 16 (the
     * kernels' {@code NORM_GRAD_MINB}), few enough that the dw/db atomics stay cheap.
     */
    private int normGradBlocks(long rows) {
        return (int) Math.max(1, Math.min((rows + 7) / 8, 2L * cu.multiprocessors));
    }

    /** The routing kernels keep one token's expert scores in registers/local memory. */
    private static void checkExperts(int e) {
        if (e > 256) throw new CudaException(e + " experts > 256 are not supported by the CUDA routing kernels yet");
    }

    private static int blockFor(int d) {
        return d >= 512 ? 512 : d >= 256 ? 256 : 128;
    }

    /** Turns one node into launches; returns the next free aux offset. */
    private long emit(Node n, long auxOff) {
        Value x0 = n.input(0);
        long n0 = x0.shape().size();
        Shape s0 = x0.shape();
        long out = ptr(n.output());
        long auxHere = aux + auxOff;
        switch (n.op()) {
            case Embedding e -> launch("embedding", 32 * n.input(1).shape().size(),
                    args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n.input(1).shape().size()).i32(s0.dim(1)));
            case EmbeddingGrad e -> {
                zero(out, n.output().shape().size() * 4);
                Shape dy = n.input(1).shape();
                launch("embedding_grad", dy.size(), args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n0).i32(dy.last()));
            }
            case MatMul m -> {
                long[] mnk = m.mnk(n.inputTypes());
                long a = ptr(x0), b = ptr(n.input(1));
                int mm = Math.toIntExact(mnk[0]), nn = Math.toIntExact(mnk[1]), kk = Math.toIntExact(mnk[2]);
                Value[] last = {n.output()};
                Cublas.Epilogue epi = epilogue(n, last);      // a bias add and/or GELU folded in: D is the last of them
                long outHalf = directHalf(last[0]);
                long acc = accOperand(n);
                long dst = epi != null ? ptr(last[0]) : accDst(n, out);
                if (kk == 0) zero(outHalf != 0 ? outHalf : out, (long) mm * nn * (outHalf != 0 ? 2 : 4));
                else if (halves != null) {
                    steps.add(blas.matmulHalf(half(x0), m.transA(), half(n.input(1)), m.transB(), outHalf != 0 ? outHalf : dst,
                            outHalf != 0, acc, epi, mm, nn, kk));
                } else steps.add(blas.matmul(a, m.transA(), b, m.transB(), dst, acc, epi, mm, nn, kk));
            }
            case Add a when folds.folded(n) -> { }   // written by its operand's producer (see FoldPlan)
            case Unary u when folds.folded(n) -> { }   // written by the product's epilogue (see FoldPlan)
            case Add a when fusedDropouts.containsKey(n.input(1)) || fusedDropouts.containsKey(x0) -> {
                boolean second = fusedDropouts.containsKey(n.input(1));
                Node dn = fusedDropouts.get(second ? n.input(1) : x0);
                Dropout dr = (Dropout) dn.op();
                if (addNorms.containsKey(n)) {
                    emitAddNorm(n, addNorms.get(n), ptr(second ? x0 : n.input(1)), ptr(dn.input(0)), ptr(dn.input(1)), dr.salt(), (float) dr.p());
                    break;
                }
                launch("add_dropout", (n0 + 3) / 4, args().ptr(ptr(second ? x0 : n.input(1))).ptr(ptr(dn.input(0))).ptr(out).u64(n0)
                        .ptr(ptr(dn.input(1))).i32(dr.salt()).f32((float) dr.p()));
            }
            case Add a when n.input(1).shape().size() == n0 -> {
                long pa = ptr(x0), pb = ptr(n.input(1));
                if (addNorms.containsKey(n)) {
                    emitAddNorm(n, addNorms.get(n), pa, pb, 0, 0, 0f);
                    break;
                }
                if (n0 % 4 == 0 && ((pa | pb | out) & 15) == 0) launch("add_v4", n0 / 4, args().ptr(pa).ptr(pb).ptr(out).u64(n0 / 4));
                else launch("add_same", n0, args().ptr(pa).ptr(pb).ptr(out).u64(n0));
            }
            case Add a -> launchBroadcast("add_bc", n0, n.input(1).shape().size(), args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out)
                    .u64(n0).u64(n.input(1).shape().size()));
            case Mul a -> launchBroadcast("mul_bc", n0, n.input(1).shape().size(), args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out)
                    .u64(n0).u64(n.input(1).shape().size()));
            case Scale s -> launch("scale_k", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).f32((float) s.factor()));
            case Broadcast b -> {
                long nOut = b.shape().size();
                launchBroadcast("broadcast_k", nOut, n0, args().ptr(ptr(x0)).ptr(out).u64(nOut).u64(n0));
            }
            case ReduceTo r -> {
                long nb = r.shape().size(), rows = n0 / Math.max(1, nb);
                zero(out, nb * 4);
                int chunk = 64;
                launch("reduce_to", (int) Math.min((nb + 255) / 256, 65535), (int) ((rows + chunk - 1) / chunk), 256, 0,
                        args().ptr(ptr(x0)).ptr(out).u64(rows).u64(nb).i32(chunk));
            }
            case ExpandLast e -> {
                long nOut = n0 * e.n();
                launch("expand_last", nOut, args().ptr(ptr(x0)).ptr(out).u64(nOut).i32(e.n()));
            }
            case SumLast sl -> {
                long rows = s0.leadingSize();
                launch("sum_last", rows, args().ptr(ptr(x0)).ptr(out).u64(rows).i32(s0.last()));
            }
            case PadLast pl -> {
                long nOut = n.output().shape().size();
                launch("pad_last", nOut, args().ptr(ptr(x0)).ptr(out).u64(nOut).i32(s0.dim(s0.rank() - 2)).i32(s0.last())
                        .i32(pl.rows()).i32(pl.start()).i32(pl.total()));
            }
            case SliceLast sl -> {
                long nOut = n.output().shape().size();
                launch("slice_last", nOut, args().ptr(ptr(x0)).ptr(out).u64(nOut).i32(s0.dim(s0.rank() - 2)).i32(s0.last())
                        .i32(sl.rows()).i32(sl.start()).i32(sl.len()));
            }
            case Unary u -> launch("unary", (n0 + 7) / 8, args().ptr(ptr(x0)).ptr(out).u64(n0).i32(fnCode(u.fn())).ptr(directHalf(n.output()))
                    .ptr(directHalf(x0)));
            case UnaryGrad u -> launch("unary_grad", (n0 + 7) / 8, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n0).i32(fnCode(u.fn()))
                    .ptr(directHalf(n.output())).ptr(directHalf(x0)).ptr(directHalf(n.input(1))));
            case LayerNorm ln when normsInAdds.contains(n) -> { }   // computed by the residual add before it
            case LayerNorm ln -> {
                long w = ln.weight() ? ptr(n.input(1)) : 0, b = ln.bias() ? ptr(n.input(ln.weight() ? 2 : 1)) : 0;
                int c = warpNormWidth(s0.last());
                long rows = s0.leadingSize();
                if (c > 0) {
                    launch("layernorm_w" + c, Math.toIntExact((rows + 7) / 8), 256, 0,
                            args().ptr(ptr(x0)).ptr(w).ptr(b).ptr(out).u64(rows).i32(s0.last()).f32((float) ln.eps()).ptr(directHalf(n.output())));
                    break;
                }
                launch("layernorm", Math.toIntExact(s0.leadingSize()), blockFor(s0.last()), 0,
                        args().ptr(ptr(x0)).ptr(w).ptr(b).ptr(out).i32(s0.last()).f32((float) ln.eps()));
            }
            case LayerNormGrad g -> {
                int dd = s0.last();
                long rows = s0.leadingSize();
                long w = g.weight() ? ptr(n.input(1)) : 0, dy = ptr(n.input(n.inputs().size() - 1));
                long dw = g.weight() ? ptr(n.outputs().get(1)) : 0, db = g.bias() ? ptr(n.outputs().get(g.weight() ? 2 : 1)) : 0;
                if (dw != 0) zero(dw, dd * 4L);
                if (db != 0) zero(db, dd * 4L);
                int c = warpNormWidth(dd);
                if (c > 0) {
                    launch("layernorm_grad_w" + c, normGradBlocks(rows), 256, 8 * 2 * dd * 4,
                            dropoutArgs(args().ptr(ptr(x0)).ptr(w).ptr(dy).ptr(accDst(n, out)).ptr(dw).ptr(db).u64(rows).i32(dd)
                                    .f32((float) g.eps()).ptr(accOperand(n)), n));
                    break;
                }
                int per = 32;
                launch("layernorm_grad", (int) ((rows + per - 1) / per), blockFor(dd), 2 * dd * 4,
                        args().ptr(ptr(x0)).ptr(w).ptr(dy).ptr(out).ptr(dw).ptr(db).u64(rows).i32(dd).f32((float) g.eps()).i32(per));
            }
            case RmsNorm rn -> {
                int c = warpNormWidth(s0.last());
                long rows = s0.leadingSize();
                if (c > 0) {
                    launch("rmsnorm_w" + c, Math.toIntExact((rows + 7) / 8), 256, 0,
                            args().ptr(ptr(x0)).ptr(rn.weight() ? ptr(n.input(1)) : 0).ptr(out).u64(rows).i32(s0.last()).f32((float) rn.eps())
                                    .ptr(directHalf(n.output())));
                    break;
                }
                launch("rmsnorm", Math.toIntExact(s0.leadingSize()), blockFor(s0.last()), 0,
                    args().ptr(ptr(x0)).ptr(rn.weight() ? ptr(n.input(1)) : 0).ptr(out).i32(s0.last()).f32((float) rn.eps()));
            }
            case RmsNormGrad g -> {
                int dd = s0.last();
                long rows = s0.leadingSize();
                long dw = g.weight() ? ptr(n.outputs().get(1)) : 0;
                if (dw != 0) zero(dw, dd * 4L);
                int c = warpNormWidth(dd);
                if (c > 0) {
                    launch("rmsnorm_grad_w" + c, normGradBlocks(rows), 256, 8 * dd * 4,
                            dropoutArgs(args().ptr(ptr(x0)).ptr(g.weight() ? ptr(n.input(1)) : 0).ptr(ptr(n.input(n.inputs().size() - 1)))
                                    .ptr(accDst(n, out)).ptr(dw).u64(rows).i32(dd).f32((float) g.eps()).ptr(accOperand(n)), n));
                    break;
                }
                int per = 32;
                launch("rmsnorm_grad", (int) ((rows + per - 1) / per), blockFor(dd), dd * 4,
                        args().ptr(ptr(x0)).ptr(g.weight() ? ptr(n.input(1)) : 0).ptr(ptr(n.input(n.inputs().size() - 1))).ptr(out)
                                .ptr(dw).u64(rows).i32(dd).f32((float) g.eps()).i32(per));
            }
            case Attention a -> {
                long seed = a.dropout() > 0 ? ptr(n.input(3)) : 0;
                if (mma(s0, a.chunk(), false)) {
                    long[] side = attnPairs.getOrDefault(n, new long[2]);
                    launch("mma_fwd" + mmaMask(s0, a.heads(), MaskArgs.of(a)) + "_" + mmaIn() + s0.dim(3), (s0.dim(1) + 63) / 64, s0.dim(0) * a.heads(), 128, 0,
                            args().ptr(attnIn(x0)).ptr(attnIn(n.input(1))).ptr(attnIn(n.input(2))).ptr(out).i32(s0.dim(1)).i32(a.heads())
                                    .i32(a.kvHeads()).mask(MaskArgs.of(a), seed)
                                    .ptr(side[0]).ptr(side[1]).ptr(directHalf(n.output())));
                    break;
                }
                if (attnImpl(s0, a.chunk()) == AttnImpl.GEMM) {
                    attentionGemm(n, a);
                    break;
                }
                checkHeadDim(s0.dim(3));
                int t = s0.dim(1), hd = s0.dim(3);
                Args args = args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out);
                if (flash(s0, a.chunk())) {
                    launch("flash_fwd_" + hd, (t + 63) / 64, s0.dim(0) * a.heads(), 64, (64 * (hd + 1) + 64 * hd) * 4,
                            args.i32(t).i32(a.heads()).i32(a.kvHeads()).mask(MaskArgs.of(a), seed).i32(a.chunk()));
                } else {
                    launch("attention_fwd", s0.dim(0) * t * s0.dim(2), 128, t * 4,
                            args.i32(t).i32(a.heads()).i32(a.kvHeads()).i32(hd).mask(MaskArgs.of(a), seed).i32(a.chunk()));
                }
            }
            case AttentionGrad a -> {
                long seed = a.dropout() > 0 ? ptr(n.input(4)) : 0;
                if (mma(s0, a.chunk(), true) && attnPairs.containsKey(n)) {
                    int hd = s0.dim(3);
                    long[] side = attnPairs.get(n);
                    long rows = s0.leadingSize();
                    launch("attn_rowdot", Math.toIntExact((rows + 7) / 8), 256, 0, args().ptr(ptr(n.input(3))).ptr(side[1]).ptr(side[0])
                            .i32(s0.dim(1)).i32(a.heads()).i32(hd).u64(rows).ptr(halves != null ? half(n.input(3)) : 0).ptr(out));   // zeroes dq
                    mmaBackwardKv(n, a, seed, side[0], out);
                    break;
                }
                if (mma(s0, a.chunk(), true)) {
                    int tiles = (s0.dim(1) + 63) / 64, hd = s0.dim(3);
                    launch("mma_bwd_q_" + mmaIn() + hd, tiles, s0.dim(0) * a.heads(), 128, 0,
                            args().ptr(attnIn(x0)).ptr(attnIn(n.input(1))).ptr(attnIn(n.input(2))).ptr(attnIn(n.input(3))).ptr(out).ptr(auxHere)
                                    .i32(s0.dim(1)).i32(a.heads()).i32(a.kvHeads()).mask(MaskArgs.of(a), seed));
                    mmaBackwardKv(n, a, seed, auxHere, 0);
                    break;
                }
                if (attnImpl(s0, a.chunk()) == AttnImpl.GEMM) {
                    attentionGradGemm(n, a);
                    break;
                }
                checkHeadDim(s0.dim(3));
                long dk = ptr(n.outputs().get(1)), dv = ptr(n.outputs().get(2));
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), hd = s0.dim(3);
                if (flash(s0, a.chunk())) {
                    int tiles = (t + 63) / 64, tile = 64 * (hd + 1);
                    launch("flash_bwd_q_" + hd, tiles, bb * h, 128, 2 * tile * 4,
                            args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(out).ptr(auxHere)
                                    .i32(t).i32(h).i32(a.kvHeads()).mask(MaskArgs.of(a), seed).i32(a.chunk()));
                    launch("flash_bwd_kv_" + hd, tiles, bb * a.kvHeads(), 128, (2 * tile + 2 * 64) * 4,
                            args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(auxHere).ptr(dk).ptr(dv)
                                    .i32(t).i32(h).i32(a.kvHeads()).mask(MaskArgs.of(a), seed).i32(a.chunk()));
                    break;
                }
                launch("attention_bwd_q", bb * t * h, 128, (a.softcap() > 0 ? 3 : 2) * t * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(out).ptr(auxHere)
                                .i32(t).i32(h).i32(a.kvHeads()).i32(hd).mask(MaskArgs.of(a), seed).i32(a.chunk()));
                launch("attention_bwd_kv", bb * t * a.kvHeads(), 128, 4 * 2 * hd * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(auxHere).ptr(dk).ptr(dv)
                                .i32(t).i32(h).i32(a.kvHeads()).i32(hd).mask(MaskArgs.of(a), seed).i32(a.chunk()));
            }
            case Rope r -> launch("rope", n0, args().ptr(ptr(x0)).ptr(out).i32(s0.dim(0)).i32(s0.dim(1)).i32(s0.dim(2)).i32(s0.dim(3))
                    .i32(r.dims()).f32((float) r.base()).i32(r.interleaved() ? 1 : 0).i32(r.inverse() ? 1 : 0)
                    .ptr(n.inputs().size() > 1 ? ptr(n.input(1)) : 0).i32(r.period()));
            case Dropout dr when folds.folded(n) -> { }   // written by the norm gradient that writes its input (see FoldPlan)
            case Dropout dr when fusedIntoAdd(n) -> fusedDropouts.put(n.output(), n);
            case Dropout dr -> launch("dropout_k", (n0 + 3) / 4, args().ptr(ptr(x0)).ptr(out).u64(n0).ptr(ptr(n.input(1))).i32(dr.salt())
                    .f32((float) dr.p()).ptr(directHalf(n.output())));
            case SwapAxes s -> {
                int[] v = s.view(s0);
                launch("swap_axes", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).i32(v[1]).i32(v[2]).i32(v[3]).i32(v[4]));
            }
            case Reshape r -> {
                if (ptr(x0) != out) launch(x0.dtype() == DType.I32 ? "copy_i" : "copy_f", n0, args().ptr(ptr(x0)).ptr(out).u64(n0));
            }
            case CrossEntropy c -> {
                long rows = s0.leadingSize();
                Node g = folds.foldedAt(n).isEmpty() ? null : folds.foldedAt(n).getFirst();   // the gradient too, from the same pass
                launch("xent_rows", Math.toIntExact(rows), 128, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(auxHere).i32(s0.last())
                        .ptr(g != null ? ptr(g.input(2)) : 0).ptr(g != null ? ptr(g.output()) : 0).ptr(g != null ? directHalf(g.output()) : 0));
                launch("mean_k", 1, 1024, 0, args().ptr(auxHere).ptr(out).u64(rows));
            }
            case CrossEntropyGrad c when folds.folded(n) -> { }   // written by the loss's kernel (see FoldPlan)
            case CrossEntropyGrad c -> launch("xent_grad", Math.toIntExact(s0.leadingSize()), 128, 0,
                    args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out).u64(s0.leadingSize()).i32(s0.last())
                            .ptr(directHalf(n.output())));
            case SumSquares s -> {
                launch("zero_d", 1, 1, 0, args().ptr(auxHere));
                launch("sumsq_acc", (int) Math.min(grid(n0), 1024), 256, 0, args().ptr(ptr(x0)).u64(n0).ptr(auxHere));
                launch("sumsq_out", 1, 1, 0, args().ptr(auxHere).ptr(out));
            }
            case GradClip g -> {
                launch("zero_d", 1, 1, 0, args().ptr(auxHere));
                emitSumSquares(n.inputs(), auxHere);
                launch("clip_coef", 1, 1, 0, args().ptr(auxHere).ptr(out).ptr(ptr(n.outputs().get(1))).f32((float) g.maxNorm()));
            }
            case AdamW a when inAdamRun.contains(n) -> {
                if (adamRuns.containsKey(n)) emitAdamRun(adamRuns.get(n));
            }
            case AdamW a -> launch("adamw", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).u64(n0)
                    .ptr(ptr(n.input(4))).ptr(ptr(n.input(5))).ptr(ptr(n.input(6))).f32((float) a.beta1()).f32((float) a.beta2())
                    .f32((float) a.eps()).f32((float) a.weightDecay()));
            case Sgd s -> launch("sgd", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).u64(n0)
                    .ptr(ptr(n.input(3))).ptr(ptr(n.input(4))).f32((float) s.momentum()).f32((float) s.weightDecay()));
            case NesterovMomentum o -> launch("nesterov", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.outputs().get(1)))
                    .u64(n0).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))));
            case FrobeniusNormalize o -> {
                launch("zero_d", 1, 1, 0, args().ptr(auxHere));
                launch("sumsq_acc", (int) Math.min(grid(n0), 1024), 256, 0, args().ptr(ptr(x0)).u64(n0).ptr(auxHere));
                launch("frob_scale", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).ptr(auxHere).f32((float) o.eps()));
            }
            case Descend o -> launch("descend", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).u64(n0).ptr(ptr(n.input(2)))
                    .f32((float) o.scale()).f32((float) o.weightDecay()));
            case PositionIds pi -> launch("position_ids", pi.count(), args().ptr(ptr(x0)).ptr(out).i32(pi.count()));
            case KvWrite w -> {
                Shape x = n.input(1).shape();
                launch("kv_write", x.size(), args().ptr(ptr(x0)).ptr(ptr(n.input(1))).i32(x.dim(0)).i32(x.dim(1)).i32(s0.dim(1))
                        .i32(s0.dim(2) * s0.dim(3)).ptr(ptr(n.input(2))));
            }
            case MoeRoute r -> {
                int tokens = s0.dim(0), na = tokens * r.topK();
                long slot = ptr(n.outputs().get(0)), sel = ptr(n.outputs().get(1)), offs = ptr(n.outputs().get(2));
                long load = ptr(n.outputs().get(3)), dropped = ptr(n.outputs().get(4));
                checkExperts(r.experts());
                launch("moe_route_topk", tokens, args().ptr(ptr(x0)).ptr(n.inputs().size() > 1 ? ptr(n.input(1)) : 0L).ptr(sel)
                        .i32(tokens).i32(r.experts()).i32(r.topK()).i32(r.sigmoid() ? 1 : 0));
                launch("moe_route_rank", r.experts(), 256, 0, args().ptr(sel).ptr(slot).ptr(load).i32(na));
                launch("moe_route_offsets", 1, 1, 0, args().ptr(load).ptr(offs).ptr(dropped).i32(r.experts()).i32(r.capacity()));
                launch("moe_route_slots", na, args().ptr(sel).ptr(slot).ptr(offs).i32(na));
            }
            case MoeGate g -> {
                checkExperts(g.experts());
                int k = n.output().shape().dim(1);
                launch("moe_gate", s0.dim(0), args().ptr(ptr(x0)).ptr(n.inputs().size() > 1 ? ptr(n.input(1)) : 0L).ptr(out)
                        .i32(s0.dim(0)).i32(g.experts()).i32(k).i32(g.sigmoid() ? 1 : 0));
            }
            case MoeGateGrad g -> {
                checkExperts(g.experts());
                Value dg = n.input(n.inputs().size() - 1);
                launch("moe_gate_grad", s0.dim(0), args().ptr(ptr(x0)).ptr(n.inputs().size() > 2 ? ptr(n.input(1)) : 0L)
                        .ptr(ptr(dg)).ptr(out).i32(s0.dim(0)).i32(g.experts()).i32(dg.shape().dim(1)).i32(g.sigmoid() ? 1 : 0));
            }
            case MoeDispatch dp -> {
                zero(out, n.output().shape().size() * 4);
                Shape sl = n.input(1).shape();
                launch("moe_dispatch", sl.size() * s0.dim(1), args().ptr(ptr(x0)).ptr(ptr(n.input(1)))
                        .ptr(n.inputs().size() > 2 ? ptr(n.input(2)) : 0L).ptr(out).u64(sl.size()).i32(sl.dim(1)).i32(s0.dim(1)));
            }
            case MoeCombine c -> {
                Shape sl = n.input(1).shape();
                launch("moe_combine", (long) sl.dim(0) * s0.dim(1), args().ptr(ptr(x0)).ptr(ptr(n.input(1)))
                        .ptr(n.inputs().size() > 2 ? ptr(n.input(2)) : 0L).ptr(out).u64(sl.dim(0)).i32(sl.dim(1)).i32(s0.dim(1)));
            }
            case MoeRowDot rd -> {
                Shape sl = n.input(2).shape();
                launch("moe_row_dot", sl.size() * 32, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out)
                        .u64(sl.size()).i32(sl.dim(1)).i32(s0.dim(1)));
            }
            case GroupedMatMul g -> {
                zero(out, n.output().shape().size() * 4);
                Shape w = n.input(1).shape();
                int cols = n.output().shape().dim(1), colTiles = (cols + 63) / 64;
                int rowSplit = (int) Math.max(1, Math.min((s0.dim(0) + 63) / 64, 65535 / colTiles));
                launch("grouped_matmul", colTiles * rowSplit, w.dim(0), 256, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1)))
                        .ptr(ptr(n.input(2))).ptr(out).i32(s0.dim(1)).i32(cols).i32(g.transB() ? 1 : 0).i32(colTiles));
            }
            case GroupedMatMulWGrad g -> {
                int in = s0.dim(1), o = n.input(1).shape().dim(1), e = n.input(2).shape().dim(0) - 1;
                int pTiles = ((g.transB() ? o : in) + 63) / 64, qTiles = ((g.transB() ? in : o) + 63) / 64;
                launch("grouped_matmul_wgrad", pTiles * qTiles, e, 256, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1)))
                        .ptr(ptr(n.input(2))).ptr(out).i32(in).i32(o).i32(g.transB() ? 1 : 0).i32(qTiles));
            }
            case BiasBalance bb -> launch("bias_balance", 1, 1, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).i32(s0.dim(0))
                    .f32((float) bb.rate()));
            case Retention r when SsdChunks.retention(n) != null -> {
                SsdChunks c = SsdChunks.retention(n);
                long la = auxHere;
                launch("retention_log_decay", c.rows(), args().ptr(la).u64(c.rows()).i32(c.h()).floats(scanGammas(r.gammas())));
                ssdForward(c, auxHere + c.retentionExtra(false), ptr(n.input(2)), la, ptr(n.input(1)), ptr(x0), out);
            }
            case RetentionGrad r when SsdChunks.retention(n) != null -> {
                // SSD's gradients with one group per head: dx = dv, dB = dk, dC = dq written directly; da unused
                SsdChunks c = SsdChunks.retention(n);
                long la = auxHere, da = auxHere + c.retentionExtra(false);
                launch("retention_log_decay", c.rows(), args().ptr(la).u64(c.rows()).i32(c.h()).floats(scanGammas(r.gammas())));
                ssdBackward(c, auxHere + c.retentionExtra(true), ptr(n.input(2)), la, ptr(n.input(1)), ptr(x0), ptr(n.input(3)),
                        ptr(n.outputs().get(2)), da, ptr(n.outputs().get(1)), out);
            }
            case Retention r -> {
                int[] d = scanDims(n);
                launch("retention_fwd", d[0] * d[2], 128, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out)
                        .ptr(r.stateful() ? ptr(n.input(3)) : 0).ptr(r.stateful() ? ptr(n.input(4)) : 0)
                        .i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]).floats(scanGammas(r.gammas())));
            }
            case RetentionGrad g -> {
                int[] d = scanDims(n);
                launch("retention_bwd", d[0] * d[2], 128, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2)))
                        .ptr(ptr(n.input(3))).ptr(out).ptr(ptr(n.outputs().get(1))).ptr(ptr(n.outputs().get(2)))
                        .i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]).floats(scanGammas(g.gammas())));
            }
            case Mlstm m when MlstmChunks.of(n) != null -> {
                MlstmChunks c = MlstmChunks.of(n);
                long[] o = c.layout(false);
                long fs = auxHere + o[0], gs = auxHere + o[1], nh = auxHere + o[2], st = auxHere + o[3], ms = auxHere + o[4];
                mlstmForward(n, c, fs, gs, nh, st, ms);
                mlstmOut(n, c, fs, st, ms, 0, out, 0, 0, 0);
            }
            case MlstmGrad g when MlstmChunks.of(n) != null -> {
                MlstmChunks c = MlstmChunks.of(n);
                long[] o = c.layout(true);
                long fs = auxHere + o[0], gs = auxHere + o[1], nh = auxHere + o[2], st = auxHere + o[3], ms = auxHere + o[4];
                long da = auxHere + o[5], ds = auxHere + o[6], nb = auxHere + o[7], dse = auxHere + o[8];
                mlstmForward(n, c, fs, gs, nh, st, ms);
                mlstmOut(n, c, fs, st, ms, ptr(n.input(6)), 0, da, ds, nb);
                launch("mlstm_c_bscan", c.stateEntries(), args().ptr(fs).ptr(ms).ptr(nb).ptr(dse).i32(c.b()).i32(c.t()).i32(c.h())
                        .i32(c.dk()).i32(c.dv()));
                Args a = args();
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.input(i)));
                a.ptr(fs).ptr(st).ptr(ms).ptr(dse).ptr(da).ptr(ds);
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.outputs().get(i)));
                launch("mlstm_c_bgrad", c.chunkBlocks(), ChunkedScan.THREADS, c.gradShared(), a.i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
            }
            case Mlstm m -> {
                int[] d = scanDims(n);
                launch("mlstm_fwd", d[0] * d[2], 128, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2)))
                        .ptr(ptr(n.input(3))).ptr(ptr(n.input(4))).ptr(out)
                        .ptr(m.stateful() ? ptr(n.input(5)) : 0).ptr(m.stateful() ? ptr(n.input(6)) : 0)
                        .i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]));
            }
            case MlstmGrad g -> {
                int[] d = scanDims(n);
                Args a = args();
                for (int k = 0; k < 7; k++) a.ptr(ptr(n.input(k)));
                for (int k = 0; k < 5; k++) a.ptr(ptr(n.outputs().get(k)));
                launch("mlstm_bwd", d[0] * d[2], 128, 0, a.i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]));
            }
            case Wkv w when narrowWkv(n) -> {
                Shape r = s0;
                Args a = args();
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.input(i)));
                launch("wkv1_fwd", (long) r.dim(0) * r.dim(2) * 16, a.ptr(out).i32(r.dim(0)).i32(r.dim(1)).i32(r.dim(2)).i32(r.dim(3)));
            }
            case WkvGrad g when narrowWkv(n) -> {
                Shape r = s0;
                Args a = args();
                for (int i = 0; i < 6; i++) a.ptr(ptr(n.input(i)));
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.outputs().get(i)));
                launch("wkv1_bwd", (long) r.dim(0) * r.dim(2) * 16, a.ptr(auxHere).i32(r.dim(0)).i32(r.dim(1)).i32(r.dim(2)).i32(r.dim(3)));
            }
            case Wkv w when WkvChunks.of(n) != null -> {
                WkvChunks c = WkvChunks.of(n);
                long[] o = c.layout(false);
                long lam = auxHere + o[0], nn = auxHere + o[1], st = auxHere + o[2];
                wkvPrep(n, c, 0, lam, nn, 0);
                decayScan(c, lam, c.dk(), c.stateSize(), nn, st, false);
                Args a = args();
                for (int i = 0; i < 3; i++) a.ptr(ptr(n.input(i)));
                launch("wkv_c_out", c.chunkBlocks(), ChunkedScan.THREADS, c.outShared(), a.ptr(ptr(n.input(4))).ptr(lam).ptr(st).ptr(out)
                        .i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
            }
            case WkvGrad g when WkvChunks.of(n) != null -> {
                WkvChunks c = WkvChunks.of(n);
                long[] o = c.layout(true);
                long lam = auxHere + o[0], nn = auxHere + o[1], st = auxHere + o[2], nb = auxHere + o[3], dse = auxHere + o[4];
                long dup = auxHere + o[5];
                wkvPrep(n, c, ptr(n.input(5)), lam, nn, nb);
                decayScan(c, lam, c.dk(), c.stateSize(), nn, st, false);
                decayScan(c, lam, c.dk(), c.stateSize(), nb, dse, true);
                Args a = args();
                for (int i = 0; i < 6; i++) a.ptr(ptr(n.input(i)));
                a.ptr(lam).ptr(st).ptr(dse);
                for (int i = 0; i < 4; i++) a.ptr(ptr(n.outputs().get(i)));
                launch("wkv_c_bgrad", c.chunkBlocks(), ChunkedScan.THREADS, c.gradShared(), a.ptr(dup).i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
                long bhd = (long) c.b() * c.h() * c.dk();
                launch("wkv_c_du", bhd, args().ptr(dup).ptr(ptr(n.outputs().get(4))).u64(bhd).i32(c.chunks()).i32(c.dk()));
            }
            case Wkv w -> {
                int[] d = scanDims(n);
                Args a = args();
                for (int k = 0; k < 5; k++) a.ptr(ptr(n.input(k)));
                launch("wkv_fwd", d[0] * d[2], 128, 0, a.ptr(out).ptr(w.stateful() ? ptr(n.input(5)) : 0)
                        .ptr(w.stateful() ? ptr(n.input(6)) : 0).i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]));
            }
            case WkvGrad g -> {
                int[] d = scanDims(n);
                Args a = args();
                for (int k = 0; k < 6; k++) a.ptr(ptr(n.input(k)));
                for (int k = 0; k < 5; k++) a.ptr(ptr(n.outputs().get(k)));
                launch("wkv_bwd", d[0] * d[2], 128, 0, a.i32(d[1]).i32(d[2]).i32(d[3]).i32(d[4]));
            }
            case TokenShift ts -> launch("token_shift", n0, args().ptr(ptr(x0)).ptr(out).ptr(ts.stateful() ? ptr(n.input(1)) : 0)
                    .ptr(ts.stateful() ? ptr(n.input(2)) : 0).i32(s0.dim(0)).i32(s0.dim(1)).i32(s0.dim(2)).i32(ts.reverse() ? 1 : 0));
            case CachedAttention a -> {
                int tmax = n.input(1).shape().dim(1);
                launch("cached_attention", s0.dim(0) * s0.dim(1) * s0.dim(2), 128, tmax * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out).i32(s0.dim(1)).i32(a.heads())
                                .i32(a.kvHeads()).i32(s0.dim(3)).i32(tmax).f32((float) a.scale()).ptr(ptr(n.input(3))).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0).i32(a.chunk()));
            }
            case CausalConv c -> {
                int bb = s0.dim(0), t = s0.dim(1), ch = s0.dim(2), k = n.input(1).shape().dim(1);
                long st = c.cached() ? ptr(n.input(2)) : 0, pos = c.cached() ? ptr(n.input(3)) : 0;
                launch("causal_conv", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).ptr(st).ptr(pos).i32(bb).i32(t).i32(ch).i32(k));
                if (c.cached()) launch("causal_conv_state", (long) bb * ch, args().ptr(ptr(x0)).ptr(st).ptr(pos).i32(bb).i32(t).i32(ch).i32(k));
            }
            case CausalConvGrad c -> {
                int bb = s0.dim(0), t = s0.dim(1), ch = s0.dim(2), k = n.input(1).shape().dim(1);
                launch("causal_conv_dx", n0, args().ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out).i32(bb).i32(t).i32(ch).i32(k));
                if (k > 16) throw new CudaException("conv_size " + k + " > 16 is not supported by the CUDA convolution kernels");
                int rowsPer = convRowsPerPart(bb * t);
                int parts = (bb * t + rowsPer - 1) / rowsPer;
                launch("causal_conv_dw_part", (ch + 31) / 32, parts, 256, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(2))).ptr(auxHere)
                        .i32(bb).i32(t).i32(ch).i32(k).i32(rowsPer));
                launch("causal_conv_dw_sum", (long) ch * k, args().ptr(auxHere).ptr(ptr(n.outputs().get(1))).i32(ch * k).i32(parts));
            }
            case GatedDeltaScan g when GdnChunks.of(n) != null -> {
                GdnChunks c = GdnChunks.of(n);
                long[] o = c.layout(false);
                long gs = auxHere + o[0], w = auxHere + o[1], ut = auxHere + o[2], m = auxHere + o[3], nn = auxHere + o[4];
                long st = auxHere + o[5];
                gdnPrep(n, c, 0, gs, w, ut, m, nn, 0, 0, 0);
                gdnScan(c, m, nn, st, 0, 0);
                launch("gdn_c_out", c.chunkBlocks(), ChunkedScan.THREADS, c.outShared(), args().ptr(ptr(x0)).ptr(ptr(n.input(1)))
                        .ptr(gs).ptr(w).ptr(ut).ptr(st).ptr(out).i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
            }
            case GatedDeltaScanGrad g when GdnChunks.of(n) != null -> {
                GdnChunks c = GdnChunks.of(n);
                long[] o = c.layout(true);
                long gs = auxHere + o[0], w = auxHere + o[1], ut = auxHere + o[2], m = auxHere + o[3], nn = auxHere + o[4];
                long st = auxHere + o[5], wb = auxHere + o[6], r0 = auxHere + o[7], nb = auxHere + o[8], dse = auxHere + o[9];
                gdnPrep(n, c, ptr(n.input(5)), gs, w, ut, m, nn, wb, r0, nb);
                gdnScan(c, m, nn, st, nb, dse);
                Args a = args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(4))).ptr(gs)
                        .ptr(ptr(n.input(5))).ptr(w).ptr(ut).ptr(wb).ptr(r0).ptr(st).ptr(dse);
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.outputs().get(i)));
                launch("gdn_c_bgrad", c.chunkBlocks(), ChunkedScan.THREADS, c.gradShared(), a.i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
            }
            case GatedDeltaScan g -> {
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), dk = s0.dim(3), dv = n.input(2).shape().dim(3);
                checkGdn(dk);
                long st = g.cached() ? ptr(n.input(5)) : 0, pos = g.cached() ? ptr(n.input(6)) : 0;
                launch("gdn_fwd", bb * h * ((dv + GDN_COLS - 1) / GDN_COLS), 128, 0,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(ptr(n.input(4))).ptr(out)
                                .ptr(st).ptr(pos).i32(t).i32(h).i32(dk).i32(dv));
            }
            case GatedDeltaScanGrad g -> {
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), dk = s0.dim(3), dv = n.input(2).shape().dim(3);
                checkGdn(dk);
                int ncb = (dv + GDN_COLS - 1) / GDN_COLS;
                long nc = (t + GDN_BWD_CHUNK - 1) / GDN_BWD_CHUNK, rows = (long) bb * t * h;
                long work = auxHere, part = auxHere + align((long) bb * h * (nc + GDN_BWD_CHUNK + 1) * dk * dv * 4);
                Args a = args();
                for (int i = 0; i < 6; i++) a.ptr(ptr(n.input(i)));
                launch("gdn_bwd", bb * h * ncb, 128, (2 * GDN_COLS * dk + 2 * GDN_COLS) * 4,
                        a.ptr(ptr(n.outputs().get(2))).ptr(work).ptr(part).i32(bb).i32(t).i32(h).i32(dk).i32(dv).i32(GDN_BWD_CHUNK));
                launch("gdn_bwd_sum", rows * (2L * dk + 2), args().ptr(part).ptr(out).ptr(ptr(n.outputs().get(1))).ptr(ptr(n.outputs().get(3)))
                        .ptr(ptr(n.outputs().get(4))).u64(rows).i32(dk).i32(ncb));
            }
            case SsdScan sc when SsdChunks.of(n) != null -> {
                ssdForward(SsdChunks.of(n), auxHere, ptr(x0), ptr(n.input(1)), ptr(n.input(2)), ptr(n.input(3)), out);
            }
            case SsdScanGrad sc when SsdChunks.of(n) != null -> {
                SsdChunks c = SsdChunks.of(n);
                long[] o = c.layout(true);
                long dbh = auxHere + o[5], dch = auxHere + o[6];
                ssdBackward(c, auxHere, ptr(x0), ptr(n.input(1)), ptr(n.input(2)), ptr(n.input(3)), ptr(n.input(4)), out,
                        ptr(n.outputs().get(1)), dbh, dch);
                launch("ssd_c_gsum", (long) c.b() * c.t() * c.g() * c.n(), args().ptr(dbh).ptr(dch).ptr(ptr(n.outputs().get(2)))
                        .ptr(ptr(n.outputs().get(3))).u64((long) c.b() * c.t()).i32(c.h()).i32(c.g()).i32(c.n()));
            }
            case SsdScan sc -> {
                Shape bm = n.input(2).shape();
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), p = s0.dim(3), gr = bm.dim(2), nn = bm.dim(3);
                checkSsd(nn);
                long st = sc.cached() ? ptr(n.input(4)) : 0, pos = sc.cached() ? ptr(n.input(5)) : 0;
                launch("ssd_fwd", bb * h * ssdRowBlocks(p), 16 * SSD_ROWS, 0,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(out).ptr(st).ptr(pos)
                                .i32(t).i32(h).i32(gr).i32(p).i32(nn));
            }
            case SsdScanGrad sc -> {
                Shape bm = n.input(2).shape();
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), p = s0.dim(3), gr = bm.dim(2), nn = bm.dim(3), nrb = ssdRowBlocks(p);
                checkSsd(nn);
                long part = (long) bb * t * h * nrb, dBp = auxHere, dCp = dBp + align(part * nn * 4), ep = dCp + align(part * nn * 4);
                Args a = args();
                for (int i = 0; i < 5; i++) a.ptr(ptr(n.input(i)));
                launch("ssd_bwd", bb * h * nrb, 16 * SSD_ROWS, (SSD_ROWS * nn + SSD_ROWS) * 4,
                        a.ptr(out).ptr(dBp).ptr(dCp).ptr(ep).i32(bb).i32(t).i32(h).i32(gr).i32(p).i32(nn));
                launch("ssd_bwd_da", (long) bb * h, args().ptr(ep).ptr(ptr(n.outputs().get(1))).i32(bb).i32(t).i32(h).i32(nrb));
                launch("ssd_group_sum", (long) bb * t * gr * nn, args().ptr(dBp).ptr(dCp).ptr(ptr(n.outputs().get(2)))
                        .ptr(ptr(n.outputs().get(3))).u64((long) bb * t).i32(h).i32(gr).i32(nn).i32(nrb));
            }
        }
        return auxOff + auxFor(n);
    }

    /** The chunked gated delta rule's per-chunk products; with dO (the backward) also Wb, R0 and Nb. */
    private void gdnPrep(Node n, GdnChunks c, long dO, long gs, long w, long ut, long m, long nn, long wb, long r0, long nb) {
        Args a = args();
        for (int i = 0; i < 5; i++) a.ptr(ptr(n.input(i)));
        launch("gdn_c_prep", c.chunkBlocks(), ChunkedScan.THREADS, c.prepShared(dO != 0), a.ptr(dO).ptr(gs).ptr(w).ptr(ut).ptr(m)
                .ptr(nn).ptr(wb).ptr(r0).ptr(nb).i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
    }

    /**
     * The scan over chunks X_{c+1} = M_c X_c + N_c into the chunk-start states st; with nb (the backward) also,
     * in the same launch, the transposed scan of the adjoints after each chunk into dse.
     */
    private void gdnScan(GdnChunks c, long m, long nn, long st, long nb, long dse) {
        int cols = c.scanColumns(cu.multiprocessors);
        launch("gdn_c_scan", c.scanBlocks(cols), nb != 0 ? 2 : 1, ChunkedScan.THREADS, c.scanShared(cols), args().ptr(m).ptr(nn)
                .ptr(st).ptr(nb).ptr(dse).i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()).i32(cols));
    }

    /** The chunked mLSTM's per-chunk sums (F, g, N̂) and the forward scan (chunk-start states, stabilisers). */
    private void mlstmForward(Node n, MlstmChunks c, long fs, long gs, long nh, long st, long ms) {
        launch("mlstm_c_prep", c.chunkBlocks(), ChunkedScan.THREADS, c.prepShared(), args().ptr(ptr(n.input(1))).ptr(ptr(n.input(2)))
                .ptr(ptr(n.input(3))).ptr(ptr(n.input(4))).ptr(fs).ptr(gs).ptr(nh).i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
        launch("mlstm_c_scan", c.stateEntries(), args().ptr(fs).ptr(gs).ptr(nh).ptr(st).ptr(ms).i32(c.b()).i32(c.t()).i32(c.h())
                .i32(c.dk()).i32(c.dv()));
    }

    /** The chunked mLSTM's outputs (dy = 0) or, with dy, the backward's da, ds and Nb. */
    private void mlstmOut(Node n, MlstmChunks c, long fs, long st, long ms, long dy, long y, long da, long ds, long nb) {
        launch("mlstm_c_out", c.chunkBlocks(), ChunkedScan.THREADS, c.outShared(), args().ptr(ptr(n.input(0))).ptr(ptr(n.input(1)))
                .ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(fs).ptr(st).ptr(ms).ptr(dy).ptr(y).ptr(da).ptr(ds).ptr(nb)
                .i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
    }

    /**
     * Whether a training wkv has value width 1 (Mamba-1 runs on it, one head per inner channel): then each
     * head's state is a scalar per key channel, and a thread per (head, channel) looping over time (wkv1_*)
     * beats both the chunked kernels and the general token-by-token ones.
     */
    private static boolean narrowWkv(Node n) {
        boolean training = n.op() instanceof WkvGrad || n.op() instanceof Wkv w && !w.stateful();
        return training && n.input(2).shape().dim(3) == 1 && n.input(0).shape().dim(3) <= 128;
    }

    /** The chunked wkv's per-chunk products: the cumulative log decays and N; with dy (the backward) also Nb. */
    private void wkvPrep(Node n, WkvChunks c, long dy, long lam, long nn, long nb) {
        Args a = args();
        for (int i = 0; i < 4; i++) a.ptr(ptr(n.input(i)));
        launch("wkv_c_prep", c.chunkBlocks(), ChunkedScan.THREADS, c.prepShared(dy != 0), a.ptr(dy).ptr(lam).ptr(nn).ptr(nb)
                .i32(c.t()).i32(c.h()).i32(c.dk()).i32(c.dv()));
    }


    /** The chunked SSD's forward from scratch at {@code aux} (layout(false)): per-chunk sums, the scan, the outputs. */
    private void ssdForward(SsdChunks c, long aux, long x, long a, long bm, long cm, long y) {
        long[] o = c.layout(false);
        long as = aux + o[0], nn = aux + o[1], st = aux + o[2];
        ssdPrep(c, x, a, bm, cm, 0, as, nn, 0);
        decayScan(c, as, 1, c.stateSize(), nn, st, false);
        launch("ssd_c_out", c.chunkBlocks(), ChunkedScan.THREADS, c.outShared(), args().ptr(x).ptr(bm).ptr(cm).ptr(as).ptr(st).ptr(y)
                .i32(c.t()).i32(c.h()).i32(c.g()).i32(c.p()).i32(c.n()));
    }

    /**
     * The chunked SSD's gradients from scratch at {@code aux} (layout(true)): dx, da, and dB, dC per head (for
     * the caller to add per group, or, with a group per head, the outputs themselves).
     */
    private void ssdBackward(SsdChunks c, long aux, long x, long a, long bm, long cm, long dy, long dx, long da, long dbh, long dch) {
        long[] o = c.layout(true);
        long as = aux + o[0], nn = aux + o[1], st = aux + o[2], nb = aux + o[3], dse = aux + o[4];
        ssdPrep(c, x, a, bm, cm, dy, as, nn, nb);
        decayScan(c, as, 1, c.stateSize(), nn, st, false);
        decayScan(c, as, 1, c.stateSize(), nb, dse, true);
        launch("ssd_c_bgrad", c.chunkBlocks(), ChunkedScan.THREADS, c.gradShared(), args().ptr(x).ptr(bm).ptr(cm).ptr(as).ptr(dy)
                .ptr(st).ptr(dse).ptr(dx).ptr(da).ptr(dbh).ptr(dch).i32(c.t()).i32(c.h()).i32(c.g()).i32(c.p()).i32(c.n()));
    }

    /** The chunked SSD's per-chunk products: the cumulative decays and N; with dy (the backward) also Nb. */
    private void ssdPrep(SsdChunks c, long x, long a, long bm, long cm, long dy, long as, long nn, long nb) {
        launch("ssd_c_prep", c.chunkBlocks(), ChunkedScan.THREADS, c.prepShared(dy != 0), args().ptr(x).ptr(a).ptr(bm).ptr(cm)
                .ptr(dy).ptr(as).ptr(nn).ptr(nb).i32(c.t()).i32(c.h()).i32(c.g()).i32(c.p()).i32(c.n()));
    }

    /**
     * The elementwise scan over chunks (chunk_decay_scan) of a state with {@code entries} floats per (b, h) and
     * {@code decays} log decays per token row: the chunk-start states, or (backwards) the adjoints after each chunk.
     */
    private void decayScan(ChunkedScan c, long logDecay, int decays, long entries, long nn, long out, boolean adjoint) {
        launch("chunk_decay_scan", (long) c.b() * c.h() * entries, args().ptr(logDecay).ptr(nn).ptr(out).i32(c.b()).i32(c.t()).i32(c.h())
                .u64(entries).i32(decays).i32(adjoint ? 1 : 0));
    }

    /**
     * Whether a dropout is computed inside its consumer instead: its only reader is a same-shape add
     * (the residual {@code x + dropout(branch)}) and it is not a program output. Saves writing and
     * re-reading the dropped branch.
     */
    private boolean fusedIntoAdd(Node n) {
        List<Node> c = consumers.getOrDefault(n.output(), List.of());
        if (c.size() != 1 || !(c.get(0).op() instanceof Add) || p.outputs().containsValue(n.output())) return false;
        Node add = c.get(0);
        return add.input(0).shape().equals(add.input(1).shape()) && add.input(0) != add.input(1);
    }

    /** The code kernels.cu's act()/dact() use for each function (not the enum's ordinal, which may change). */
    static int fnCode(UnaryFn fn) {
        return switch (fn) {
            case GELU -> 0;
            case RELU -> 1;
            case SILU -> 2;
            case RELU2 -> 3;
            case TANH -> 4;
            case GELU_TANH -> 5;
            case EXP -> 6;
            case SIGMOID -> 7;
            case SOFTPLUS -> 8;
            case LOG_SOFTPLUS -> 9;
        };
    }

    public Program program() {
        return p;
    }

    private Value value(String name) {
        Value v = byName.get(name);
        if (v == null) throw new IllegalArgumentException("program " + p.name() + " has no value '" + name + "'");
        return v;
    }

    private MemorySegment stage(String name, long bytes) {
        MemorySegment s = staging.get(name);
        if (s == null || s.byteSize() < bytes) {
            s = d.hostAlloc(bytes);
            staging.put(name, s);
        }
        return s;
    }

    public void setFloats(String name, float[] data) {
        Value v = value(name);
        if (v.dtype() == DType.I32 || data.length != v.shape().size()) {
            throw new IllegalArgumentException(name + ": expected " + v.type() + ", got " + data.length + " floats");
        }
        upload(name, v, data.length * 4L, s -> MemorySegment.copy(data, 0, s, JAVA_FLOAT, 0, data.length));
    }

    public void setInts(String name, int[] data) {
        Value v = value(name);
        if (v.dtype() != DType.I32 || data.length != v.shape().size()) {
            throw new IllegalArgumentException(name + ": expected " + v.type() + ", got " + data.length + " ints");
        }
        upload(name, v, data.length * 4L, s -> MemorySegment.copy(data, 0, s, JAVA_INT, 0, data.length));
    }

    /** Inputs up to this size get two page-locked buffers each, so the host fills one while a copy reads the other. */
    private static final long SMALL_INPUT = 1L << 20;
    private final Map<String, MemorySegment[]> inBufs = new HashMap<>();
    private final Map<String, MemorySegment[]> inEvents = new HashMap<>();
    private final Map<String, Integer> inFlip = new HashMap<>();

    /**
     * Copies a host array to v's device buffer asynchronously, in stream order (after the runs already
     * queued). A small input (a batch, a scalar) alternates between two staging buffers and waits only
     * for the copy that last read the one it reuses, so the host prepares step s+1 while the GPU runs
     * step s; a large one (weights) waits for the stream, then reuses its one buffer.
     */
    private void upload(String name, Value v, long bytes, java.util.function.Consumer<MemorySegment> fill) {
        d.setCurrent(cu.context);
        if (bytes > SMALL_INPUT) {
            d.sync(stream);           // the staging buffer may still feed the previous copy
            MemorySegment s = stage(name, bytes);
            fill.accept(s);
            d.htodAsync(ptr(v), s, bytes, stream);
            return;
        }
        MemorySegment[] bufs = inBufs.computeIfAbsent(name, k -> new MemorySegment[2]);
        MemorySegment[] evs = inEvents.computeIfAbsent(name, k -> new MemorySegment[] {d.event(), d.event()});
        int k = inFlip.merge(name, 1, (a, b) -> a ^ 1);
        if (bufs[k] != null) d.eventSync(evs[k]);
        if (bufs[k] == null || bufs[k].byteSize() < bytes) bufs[k] = d.hostAlloc(bytes);
        fill.accept(bufs[k]);
        d.htodAsync(ptr(v), bufs[k], bytes, stream);
        d.record(evs[k], stream);
    }

    /** Page-locked slots for scalars read back later ({@link #scalarLater}), reused round-robin. */
    private static final int RING = 64;
    private MemorySegment ring;
    private MemorySegment[] ringEvents;
    private int ringNext;

    /**
     * Queues the copy of a scalar output after the work queued so far; the returned value waits only for
     * that copy. Read it before {@value #RING} more are queued (its slot is reused then).
     */
    @Override
    public PendingScalar scalarLater(String name) {
        Value v = value(name);
        if (v.dtype() == DType.I32) throw new IllegalArgumentException(name + " is i32");
        d.setCurrent(cu.context);
        if (ring == null) {
            ring = d.hostAlloc(4L * RING);
            ringEvents = new MemorySegment[RING];
            for (int i = 0; i < RING; i++) ringEvents[i] = d.event();
        }
        int k = ringNext++ % RING;
        MemorySegment slot = ring.asSlice(4L * k, 4), ev = ringEvents[k];
        d.dtohAsync(slot, ptr(v), 4, stream);
        d.record(ev, stream);
        return () -> {
            d.eventSync(ev);
            return slot.get(JAVA_FLOAT, 0);
        };
    }

    public float[] getFloats(String name) {
        Value v = value(name);
        if (v.dtype() == DType.I32) throw new IllegalArgumentException(name + " is i32");
        d.setCurrent(cu.context);
        long bytes = v.shape().size() * 4;
        MemorySegment s = stage("<out>", bytes);
        d.dtohAsync(s, ptr(v), bytes, stream);
        d.sync(stream);
        float[] out = new float[(int) v.shape().size()];
        MemorySegment.copy(s, JAVA_FLOAT, 0, out, 0, out.length);
        return out;
    }

    @Override
    public void setProfiling(boolean on) {
        opNanos = on ? new long[p.nodes().size()] : null;
        if (on && events == null) {
            events = new MemorySegment[p.nodes().size() + 1];
            for (int i = 0; i < events.length; i++) events[i] = d.event();
        }
    }

    @Override
    public Map<String, long[]> profile() {
        Map<String, long[]> m = new java.util.TreeMap<>();
        if (opNanos == null) return m;
        boolean shapes = Boolean.getBoolean("mixlab.profile.shapes");
        for (Node n : p.nodes()) {
            String key = n.op().name();
            if (shapes && n.op() instanceof MatMul mm) {
                long[] mnk = mm.mnk(n.inputTypes());
                key += " " + mnk[0] + "x" + mnk[1] + "x" + mnk[2] + (mm.transA() ? " T" : " N") + (mm.transB() ? "T" : "N");
            } else if (shapes) {
                key += " " + n.input(0).shape();
            }
            long[] acc = m.computeIfAbsent(key, k -> new long[2]);
            acc[0] += opNanos[n.index()];
            acc[1]++;
        }
        return m;
    }

    /** Runs eagerly with an event between nodes: slower than the graph, but says where GPU time goes. */
    private void runProfiled() {
        int node = -1;
        d.record(events[0], stream);
        for (int i = 0; i < steps.size(); i++) {
            int nn = stepNode.get(i);
            if (nn != node) {
                if (node >= 0) d.record(events[node + 1], stream);
                node = nn;
            }
            steps.get(i).run();
        }
        if (node >= 0) d.record(events[node + 1], stream);
        // nodes without launches (views) keep 0; each node's time is from the previous launch's end event
        int prev = -1;
        for (int i = 0; i < p.nodes().size(); i++) {
            if (!stepNode.contains(i)) continue;
            MemorySegment start = prev < 0 ? events[0] : events[prev + 1];
            opNanos[i] += (long) (d.elapsed(start, events[i + 1]) * 1e6);
            prev = i;
        }
    }

    public void run() {
        d.setCurrent(cu.context);
        if (opNanos != null) {
            runProfiled();
            runs++;
            return;
        }
        if (graph != null) {
            d.graphLaunch(graph, stream);
        } else if (runs == 0 || Boolean.getBoolean("mixlab.cuda.nograph")) {
            for (Runnable r : steps) r.run();     // the first run eagerly: errors point at a launch
        } else {
            d.beginCapture(stream);
            try {
                for (Runnable r : steps) r.run();
            } finally {
                MemorySegment g = d.endCapture(stream);
                graph = d.instantiate(g);
            }
            d.graphLaunch(graph, stream);
        }
        runs++;
    }

    /** Waits for the GPU to finish the work queued so far. */
    void sync() {
        d.sync(stream);
    }

    @Override
    public void close() {
        // device memory is released with the process; executables live as long as a run
    }
}
