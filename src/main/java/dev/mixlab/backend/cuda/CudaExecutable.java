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
    private final Map<String, MemorySegment> staging = new HashMap<>();
    private final Cublas blas;
    private MemorySegment graph;
    private int runs;
    private final long peakBytes;

    CudaExecutable(CudaBackend cu, Program p) {
        this.cu = cu;
        this.d = cu.driver;
        this.p = p;
        this.plan = MemoryPlan.plan(p);
        this.stream = d.stream();
        fBase = d.malloc(plan.floatElements() * 4);
        iBase = d.malloc(Math.max(1, plan.intElements()) * 4);
        long auxBytes = auxBytes();
        aux = d.malloc(auxBytes);
        long ws = 32L << 20;
        long workspace = d.malloc(ws);
        peakBytes = plan.floatElements() * 4 + plan.intElements() * 4 + auxBytes + ws;
        blas = new Cublas(stream, workspace, ws, !Boolean.getBoolean("mixlab.cuda.fp32"));   // TF32 tensor cores unless asked for full fp32
        for (List<Value> g : List.of(p.inputs(), p.params(), p.state())) for (Value v : g) byName.put(v.name(), v);
        p.outputs().forEach(byName::putIfAbsent);
        d.memsetAsync(fBase, plan.floatElements() * 4, stream);
        d.memsetAsync(iBase, Math.max(1, plan.intElements()) * 4, stream);
        long auxOff = 0;
        for (Node n : p.nodes()) {
            int before = steps.size();
            auxOff = emit(n, auxOff);
            for (int i = before; i < steps.size(); i++) stepNode.add(n.index());
        }
        d.sync(stream);
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
            case GatedDeltaScanGrad g -> {
                Shape q = n.input(0).shape();
                long nc = (q.dim(1) + GDN_BWD_CHUNK - 1) / GDN_BWD_CHUNK, dv = n.input(2).shape().dim(3);
                yield align((long) q.dim(0) * q.dim(2) * (nc + GDN_BWD_CHUNK + 1) * q.dim(3) * dv * 4) + gdnPartBytes(q, (int) dv);
            }
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
        return (v.dtype() == DType.I32 ? iBase : fBase) + 4L * plan.offset(v);
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

    private void zero(long ptr, long bytes) {
        steps.add(() -> d.memsetAsync(ptr, bytes, stream));
    }

    private Args args() {
        return new Args(arena);
    }

    /** The tiled (flash-style) attention kernels exist for these head sizes; others use the row kernels. */
    private static boolean flash(int hd) {
        return (hd == 32 || hd == 64) && !Boolean.getBoolean("mixlab.cuda.noflash");
    }

    /** The attention kernels keep one head row in 8 registers per lane. */
    private static void checkHeadDim(int hd) {
        if (hd > 256) throw new CudaException("head_dim " + hd + " > 256 is not supported by the CUDA attention kernels yet");
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
            case Embedding e -> launch("embedding", n.output().shape().size(),
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
                if (kk == 0) zero(out, (long) mm * nn * 4);
                else steps.add(() -> blas.matmul(a, m.transA(), b, m.transB(), out, mm, nn, kk));
            }
            case Add a -> launch("add_bc", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n0).u64(n.input(1).shape().size()));
            case Mul a -> launch("mul_bc", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n0).u64(n.input(1).shape().size()));
            case Scale s -> launch("scale_k", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).f32((float) s.factor()));
            case Broadcast b -> {
                long nOut = b.shape().size();
                launch("broadcast_k", nOut, args().ptr(ptr(x0)).ptr(out).u64(nOut).u64(n0));
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
            case Unary u -> launch("unary", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).i32(fnCode(u.fn())));
            case UnaryGrad u -> launch("unary_grad", n0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(out).u64(n0).i32(fnCode(u.fn())));
            case LayerNorm ln -> {
                long w = ln.weight() ? ptr(n.input(1)) : 0, b = ln.bias() ? ptr(n.input(ln.weight() ? 2 : 1)) : 0;
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
                int per = 32;
                launch("layernorm_grad", (int) ((rows + per - 1) / per), blockFor(dd), 2 * dd * 4,
                        args().ptr(ptr(x0)).ptr(w).ptr(dy).ptr(out).ptr(dw).ptr(db).u64(rows).i32(dd).f32((float) g.eps()).i32(per));
            }
            case RmsNorm rn -> launch("rmsnorm", Math.toIntExact(s0.leadingSize()), blockFor(s0.last()), 0,
                    args().ptr(ptr(x0)).ptr(rn.weight() ? ptr(n.input(1)) : 0).ptr(out).i32(s0.last()).f32((float) rn.eps()));
            case RmsNormGrad g -> {
                int dd = s0.last();
                long rows = s0.leadingSize();
                long dw = g.weight() ? ptr(n.outputs().get(1)) : 0;
                if (dw != 0) zero(dw, dd * 4L);
                int per = 32;
                launch("rmsnorm_grad", (int) ((rows + per - 1) / per), blockFor(dd), dd * 4,
                        args().ptr(ptr(x0)).ptr(g.weight() ? ptr(n.input(1)) : 0).ptr(ptr(n.input(n.inputs().size() - 1))).ptr(out)
                                .ptr(dw).u64(rows).i32(dd).f32((float) g.eps()).i32(per));
            }
            case Attention a -> {
                checkHeadDim(s0.dim(3));
                int t = s0.dim(1), hd = s0.dim(3);
                Args args = args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out);
                if (flash(hd)) {
                    launch("flash_fwd_" + hd, (t + 63) / 64, s0.dim(0) * a.heads(), 64, (64 * (hd + 1) + 64 * hd) * 4,
                            args.i32(t).i32(a.heads()).i32(a.kvHeads()).f32((float) a.scale()).f32((float) a.dropout()).i32(a.salt())
                                    .ptr(a.dropout() > 0 ? ptr(n.input(3)) : 0).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
                } else {
                    launch("attention_fwd", s0.dim(0) * t * s0.dim(2), 128, t * 4,
                            args.i32(t).i32(a.heads()).i32(a.kvHeads()).i32(hd).f32((float) a.scale()).f32((float) a.dropout())
                                    .i32(a.salt()).ptr(a.dropout() > 0 ? ptr(n.input(3)) : 0).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
                }
            }
            case AttentionGrad a -> {
                checkHeadDim(s0.dim(3));
                long dk = ptr(n.outputs().get(1)), dv = ptr(n.outputs().get(2));
                int bb = s0.dim(0), t = s0.dim(1), h = s0.dim(2), hd = s0.dim(3);
                long seed = a.dropout() > 0 ? ptr(n.input(4)) : 0;
                if (flash(hd)) {
                    int tiles = (t + 63) / 64, tile = 64 * (hd + 1);
                    launch("flash_bwd_q_" + hd, tiles, bb * h, 128, 2 * tile * 4,
                            args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(out).ptr(auxHere)
                                    .i32(t).i32(h).i32(a.kvHeads()).f32((float) a.scale()).f32((float) a.dropout()).i32(a.salt()).ptr(seed).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
                    launch("flash_bwd_kv_" + hd, tiles, bb * a.kvHeads(), 128, (2 * tile + 2 * 64) * 4,
                            args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(auxHere).ptr(dk).ptr(dv)
                                    .i32(t).i32(h).i32(a.kvHeads()).f32((float) a.scale()).f32((float) a.dropout()).i32(a.salt()).ptr(seed).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
                    break;
                }
                launch("attention_bwd_q", bb * t * h, 128, (a.softcap() > 0 ? 3 : 2) * t * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(out).ptr(auxHere)
                                .i32(t).i32(h).i32(a.kvHeads()).i32(hd).f32((float) a.scale()).f32((float) a.dropout()).i32(a.salt()).ptr(seed).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
                launch("attention_bwd_kv", bb * t * a.kvHeads(), 128, 4 * 2 * hd * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(ptr(n.input(3))).ptr(auxHere).ptr(dk).ptr(dv)
                                .i32(t).i32(h).i32(a.kvHeads()).i32(hd).f32((float) a.scale()).f32((float) a.dropout()).i32(a.salt()).ptr(seed).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
            }
            case Rope r -> launch("rope", n0, args().ptr(ptr(x0)).ptr(out).i32(s0.dim(0)).i32(s0.dim(1)).i32(s0.dim(2)).i32(s0.dim(3))
                    .i32(r.dims()).f32((float) r.base()).i32(r.interleaved() ? 1 : 0).i32(r.inverse() ? 1 : 0)
                    .ptr(n.inputs().size() > 1 ? ptr(n.input(1)) : 0));
            case Dropout dr -> launch("dropout_k", n0, args().ptr(ptr(x0)).ptr(out).u64(n0).ptr(ptr(n.input(1))).i32(dr.salt())
                    .f32((float) dr.p()));
            case Reshape r -> {
                if (ptr(x0) != out) launch(x0.dtype() == DType.I32 ? "copy_i" : "copy_f", n0, args().ptr(ptr(x0)).ptr(out).u64(n0));
            }
            case CrossEntropy c -> {
                long rows = s0.leadingSize();
                launch("xent_rows", Math.toIntExact(rows), 128, 0, args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(auxHere).i32(s0.last()));
                launch("mean_k", 1, 1024, 0, args().ptr(auxHere).ptr(out).u64(rows));
            }
            case CrossEntropyGrad c -> launch("xent_grad", Math.toIntExact(s0.leadingSize()), 128, 0,
                    args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out).u64(s0.leadingSize()).i32(s0.last()));
            case SumSquares s -> {
                launch("zero_d", 1, 1, 0, args().ptr(auxHere));
                launch("sumsq_acc", (int) Math.min(grid(n0), 1024), 256, 0, args().ptr(ptr(x0)).u64(n0).ptr(auxHere));
                launch("sumsq_out", 1, 1, 0, args().ptr(auxHere).ptr(out));
            }
            case GradClip g -> {
                launch("zero_d", 1, 1, 0, args().ptr(auxHere));
                for (Value in : n.inputs()) {
                    long m = in.shape().size();
                    launch("sumsq_acc", (int) Math.min(grid(m), 1024), 256, 0, args().ptr(ptr(in)).u64(m).ptr(auxHere));
                }
                launch("clip_coef", 1, 1, 0, args().ptr(auxHere).ptr(out).ptr(ptr(n.outputs().get(1))).f32((float) g.maxNorm()));
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
            case CachedAttention a -> {
                int tmax = n.input(1).shape().dim(1);
                launch("cached_attention", s0.dim(0) * s0.dim(1) * s0.dim(2), 128, tmax * 4,
                        args().ptr(ptr(x0)).ptr(ptr(n.input(1))).ptr(ptr(n.input(2))).ptr(out).i32(s0.dim(1)).i32(a.heads())
                                .i32(a.kvHeads()).i32(s0.dim(3)).i32(tmax).f32((float) a.scale()).ptr(ptr(n.input(3))).i32(a.window()).f32((float) a.softcap()).i32(a.alibi() ? 1 : 0));
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

    /** The code kernels.cu's act()/dact() use for each function (not the enum's ordinal, which may change). */
    static int fnCode(UnaryFn fn) {
        return switch (fn) {
            case GELU -> 0;
            case RELU -> 1;
            case SILU -> 2;
            case RELU2 -> 3;
            case TANH -> 4;
            case GELU_TANH -> 5;
            case SOFTPLUS -> 6;
            case EXP -> 7;
            case SIGMOID -> 8;
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
        d.setCurrent(cu.context);
        d.sync(stream);           // the staging buffer may still feed the previous copy
        MemorySegment s = stage(name, data.length * 4L);
        MemorySegment.copy(data, 0, s, JAVA_FLOAT, 0, data.length);
        d.htodAsync(ptr(v), s, data.length * 4L, stream);
    }

    public void setInts(String name, int[] data) {
        Value v = value(name);
        if (v.dtype() != DType.I32 || data.length != v.shape().size()) {
            throw new IllegalArgumentException(name + ": expected " + v.type() + ", got " + data.length + " ints");
        }
        d.setCurrent(cu.context);
        d.sync(stream);
        MemorySegment s = stage(name, data.length * 4L);
        MemorySegment.copy(data, 0, s, JAVA_INT, 0, data.length);
        d.htodAsync(ptr(v), s, data.length * 4L, stream);
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
        for (Node n : p.nodes()) {
            long[] acc = m.computeIfAbsent(n.op().name(), k -> new long[2]);
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
