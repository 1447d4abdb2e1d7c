package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Add;
import dev.mixlab.ir.CrossEntropy;
import dev.mixlab.ir.CrossEntropyGrad;
import dev.mixlab.ir.DType;
import dev.mixlab.ir.Dropout;
import dev.mixlab.ir.MatMul;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.passes.MemoryPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Nodes computed by an earlier node's launch (planning only: no GPU needed). Four kinds:
 * <ul>
 *   <li><b>Adds</b>: a same-shape add {@code y = a + b} is computed by the node writing b as it writes
 *   (a product by cuBLASLt's {@code D = A·B + C}, a norm gradient by adding a in its dx kernel). The
 *   backward sums every residual and q/k/v branch gradient with such adds; each fold saves a launch
 *   and a read and a write of y (nanoGPT's step has 24 adds of 16384×384 floats).</li>
 *   <li><b>Loss gradients</b>: the softmax cross-entropy's gradient is written by the loss's own
 *   kernel, which already has each row's log-sum-exp: the logits are read once, not twice.</li>
 *   <li><b>Dropouts of a norm gradient's output</b>: in the backward, each residual branch's gradient is
 *   the dropout (same mask) of the residual gradient a norm gradient has just written; that kernel
 *   writes the masked copy too (bf16 where only products read it), so the stream is not read again.</li>
 *   <li><b>Epilogues</b>: a bias add {@code y = x·W + b} and a tanh-approximated GELU after a product
 *   run in cuBLASLt's epilogue (BIAS, GELU_AUX, GELU_AUX_BIAS), which also writes the pre-activation
 *   the GELU's gradient reads. Only the tanh GELU: cuBLASLt's GELU is that approximation (measured
 *   against PyTorch: 5e-6 from the tanh form, 5e-4 from the exact one).</li>
 * </ul>
 *
 * <p>A fold moves the writes of the folded nodes to the earlier launch, so it is planned only where
 * that is safe in the memory plan: everything the folded nodes read is written before the launch,
 * and the bytes of what the launch now writes are used neither by its reads and other writes nor by
 * any node in between. A value written by the launch whose every reader is folded into it is never
 * written (the add's b, the product under a bias). An add's y may be exactly its a (each element is
 * read before it is written), and a norm gradient may write y over exactly the bytes of its x or dy
 * (each warp reads its rows whole before writing them).
 */
final class FoldPlan {
    /** folded node → the node whose launch computes it; launching node → its folded nodes in order. */
    private final Map<Node, Node> into = new HashMap<>();
    private final Map<Node, List<Node>> at = new HashMap<>();
    private final Map<Value, Integer> readers = new HashMap<>();

    private FoldPlan() {}

    /** Whether epilogue node g (a bias add or an activation) fits in product prod's epilogue after the nodes already folded there. */
    interface Epilogue {
        boolean fits(Node prod, List<Node> chain, Node g);
    }

    /**
     * Plans the folds of program p under memory plan m. candidate: the nodes that may fold (not those
     * computed some other fused way); accumulates: whether a node's kernel can add into that output;
     * drops: whether a node's kernel can also write the dropout of the value it writes first;
     * epilogue: whether an epilogue node (bias add or GELU) may fold into the given product, given the
     * nodes already folded there (storage types must agree); reads: what a node's kernels read in the
     * float and int arenas (its inputs, what a fused kernel reads instead, or nothing for a product that
     * reads only bf16 copies).
     */
    static FoldPlan of(Program p, MemoryPlan m, Predicate<Node> candidate, BiPredicate<Node, Value> accumulates,
                       Predicate<Node> drops, Epilogue epilogue, Function<Node, List<Value>> reads) {
        FoldPlan plan = new FoldPlan();
        Map<Value, Node> producers = new HashMap<>();
        for (Node n : p.nodes()) {
            for (Value v : n.outputs()) producers.put(v, n);
            for (Value v : n.inputs()) plan.readers.merge(v, 1, Integer::sum);
        }
        for (Value v : p.outputs().values()) plan.readers.merge(v, 1, Integer::sum);   // a program output is read after the run
        for (Node g : p.nodes()) {
            if (!candidate.test(g)) continue;
            if (plan.planEpilogue(p, m, g, producers, epilogue, reads)) continue;
            if (g.op() instanceof Add) plan.planAdd(p, m, g, producers, accumulates, reads);
            if (g.op() instanceof CrossEntropyGrad) plan.planLossGrad(p, m, g, producers, reads);
            if (g.op() instanceof Dropout) plan.planDropout(p, m, g, producers, drops, reads);
        }
        return plan;
    }

    private void planAdd(Program p, MemoryPlan m, Node add, Map<Value, Node> producers, BiPredicate<Node, Value> accumulates,
                         Function<Node, List<Value>> reads) {
        if (!add.input(0).shape().equals(add.input(1).shape()) || add.input(0) == add.input(1)) return;
        for (int side = 1; side >= 0; side--) {
            Value b = add.input(side), a = add.input(1 - side);
            Node prod = producers.get(b);
            if (prod == null || at.containsKey(prod) || into.containsKey(prod) || !accumulates.test(prod, b)) continue;
            if (readers.get(b) != 1) continue;
            if (!writtenBefore(a, prod, producers)) continue;
            // a row-wise kernel (a norm gradient) may write y over exactly the bytes of a same-shape input; a product may not
            boolean rowWise = !(prod.op() instanceof MatMul);
            if (tryLink(p, m, reads, add, prod, v -> v == a || rowWise)) return;
        }
    }

    /** The loss node reading the same logits and targets before it, if the gradient's dloss is written by then. */
    private void planLossGrad(Program p, MemoryPlan m, Node grad, Map<Value, Node> producers, Function<Node, List<Value>> reads) {
        for (Node f : p.nodes().subList(0, grad.index())) {
            if (!(f.op() instanceof CrossEntropy) || at.containsKey(f)) continue;
            if (f.input(0) != grad.input(0) || f.input(1) != grad.input(1)) continue;
            if (!writtenBefore(grad.input(2), f, producers)) continue;
            if (tryLink(p, m, reads, grad, f, v -> false)) return;
        }
    }

    /**
     * A dropout of the value a launch that drops (a warp-per-row norm gradient) writes as its dx (its own
     * output, or that of the add folded into it): one dropout per launch, and only where something else
     * reads the value too, so the launch still writes it.
     */
    private void planDropout(Program p, MemoryPlan m, Node g, Map<Value, Node> producers, Predicate<Node> drops,
                             Function<Node, List<Value>> reads) {
        Value x = g.input(0);
        Node pv = producers.get(x);
        if (pv == null) return;
        Node by = into.getOrDefault(pv, pv);
        if (!drops.test(by) || into.containsKey(by) || readers.getOrDefault(x, 0) < 2) return;
        Node add = addOf(by);
        if (x != (add != null ? add.output() : by.outputs().getFirst())) return;
        if (dropoutOf(by) != null) return;
        for (Value v : g.inputs().subList(1, g.inputs().size())) if (!writtenBefore(v, by, producers)) return;
        tryLink(p, m, reads, g, by, v -> false);
    }

    /** The dropout node n's launch computes as well (see {@link #planDropout}), or null. */
    Node dropoutOf(Node n) {
        for (Node g : foldedAt(n)) if (g.op() instanceof Dropout) return g;
        return null;
    }

    /**
     * A bias add or GELU whose input is the last value a product's launch writes (the product's output,
     * or the bias add already folded there): folded into that product's epilogue.
     */
    private boolean planEpilogue(Program p, MemoryPlan m, Node g, Map<Value, Node> producers, Epilogue epilogue,
                                 Function<Node, List<Value>> reads) {
        if (!(g.op() instanceof dev.mixlab.ir.Unary || g.op() instanceof Add && bias(g))) return false;
        Node prev = producers.get(g.input(0));
        if (prev == null) return false;
        Node prod = into.getOrDefault(prev, prev);
        if (!(prod.op() instanceof MatMul) || into.containsKey(prod)) return false;
        List<Node> chain = at.getOrDefault(prod, List.of());
        if (!chain.isEmpty() && chain.getLast() != prev || chain.isEmpty() && prev != prod) return false;
        if (chain.stream().anyMatch(c -> !(c.op() instanceof dev.mixlab.ir.Unary || c.op() instanceof Add && bias(c)))) return false;
        // the bias epilogue writes only x + b: x must have no other reader; a GELU's input may be written as aux
        if (g.op() instanceof Add && (!chain.isEmpty() || readers.get(g.input(0)) != 1)) return false;
        // an epilogue applies one activation, after the bias: an activation of an activation runs as its own kernel
        if (g.op() instanceof dev.mixlab.ir.Unary && chain.stream().anyMatch(c -> c.op() instanceof dev.mixlab.ir.Unary)) return false;
        if (!epilogue.fits(prod, chain, g)) return false;
        for (Value v : g.inputs().subList(1, g.inputs().size())) if (!writtenBefore(v, prod, producers)) return false;
        return tryLink(p, m, reads, g, prod, v -> false);
    }

    private boolean tryLink(Program p, MemoryPlan m, Function<Node, List<Value>> reads, Node g, Node by, Predicate<Value> mayEqual) {
        into.put(g, by);
        at.computeIfAbsent(by, k -> new ArrayList<>()).add(g);
        if (free(p, m, reads, g, by, mayEqual)) return true;
        into.remove(g);
        at.get(by).remove(g);
        if (at.get(by).isEmpty()) at.remove(by);
        return false;
    }

    private boolean writtenBefore(Value v, Node n, Map<Value, Node> producers) {
        Node pv = producers.get(v);
        if (pv == null) return true;
        Node by = into.getOrDefault(pv, pv);
        return by.index() < n.index();
    }

    /** The node whose launch computes node g (null where g launches itself). */
    Node foldedInto(Node g) {
        return into.get(g);
    }

    /** The nodes computed by node n's launch, in program order (empty if none). */
    List<Node> foldedAt(Node n) {
        return at.getOrDefault(n, List.of());
    }

    /** The add node n computes as it writes its output (null if none): the first fold (a dropout may follow it). */
    Node addOf(Node n) {
        List<Node> gs = at.get(n);
        return gs != null && !gs.isEmpty() && gs.getFirst().op() instanceof Add && !(n.op() instanceof MatMul && bias(gs.getFirst()))
                ? gs.getFirst() : null;
    }

    /** Whether an add is a bias add {@code x + b} (b a vector of x's last width), the kind an epilogue folds. */
    static boolean bias(Node add) {
        return add.input(1).shape().rank() == 1 && add.input(0).shape().rank() > 1 && add.input(1).shape().last() == add.input(0).shape().last();
    }

    /** The other operand of the add folded into n (the one n does not write), or null. */
    Value operand(Node n) {
        Node add = addOf(n);
        if (add == null) return null;
        return add.input(add.input(0) == n.output() ? 1 : 0);
    }

    /** Whether node g is computed by an earlier node's launch (and so launches nothing itself). */
    boolean folded(Node g) {
        return into.containsKey(g);
    }

    /** How many nodes are folded. */
    int size() {
        return into.size();
    }

    /**
     * Whether v is written by the launch that produces it: false where every reader of v is folded into
     * that launch (the launch consumes it).
     */
    boolean written(Node launch, Value v) {
        List<Node> gs = at.get(launch);
        if (gs == null) return true;
        int inside = 0;
        for (Node g : gs) for (Value x : g.inputs()) if (x == v) inside++;
        return inside == 0 || inside < readers.getOrDefault(v, 0);
    }

    /**
     * What node n's launch reads and writes with its folds: n's reads plus the folded nodes' inputs that
     * the launch does not write itself; every output of n and of its folded nodes that the launch does
     * not consume. {reads, writes}.
     */
    List<List<Value>> effects(Node n, Function<Node, List<Value>> reads) {
        List<Value> r = new ArrayList<>(reads.apply(n)), w = new ArrayList<>();
        List<Value> made = new ArrayList<>(n.outputs());
        for (Node g : foldedAt(n)) {
            for (Value v : g.inputs()) if (!made.contains(v) && !r.contains(v)) r.add(v);
            made.addAll(g.outputs());
        }
        for (Value v : made) if (written(n, v)) w.add(v);
        return List.of(r, w);
    }

    /**
     * Whether by's launch, with g folded in, writes nothing over bytes in use. What the fold adds to the
     * launch is checked (pairs the launch had before were checked when they were added, or are by's own
     * kernel): g's outputs it writes must not overlap what it reads (except exactly, for the values
     * mayEqual allows) or its other writes, nor anything a node strictly between by and g (not itself
     * folded into by) reads or writes; and g's inputs it now reads must not overlap what it writes.
     */
    private boolean free(Program p, MemoryPlan m, Function<Node, List<Value>> reads, Node g, Node by, Predicate<Value> mayEqual) {
        List<List<Value>> e = effects(by, reads);
        for (Value y : e.get(1)) {
            long[] yr = range(m, y);
            boolean made = g.outputs().contains(y);
            for (Value v : e.get(0)) {
                if (!made && !g.inputs().contains(v)) continue;
                long[] r = range(m, v);
                boolean same = r[0] == yr[0] && r[1] == yr[1] && r[2] == yr[2] && v.shape().equals(y.shape());
                if (overlaps(yr, r) && !(same && mayEqual.test(v))) return false;
            }
            if (!made) continue;
            for (Value o : e.get(1)) if (o != y && overlaps(yr, range(m, o))) return false;
            for (Node k : p.nodes().subList(by.index() + 1, g.index())) {
                if (into.get(k) == by) continue;
                for (List<Value> vs : effects(k, reads)) for (Value v : vs) if (overlaps(yr, range(m, v))) return false;
            }
        }
        return true;
    }

    /** {first element, end element, arena (0 float, 1 int)} of v in the plan. */
    static long[] range(MemoryPlan m, Value v) {
        long o = m.offset(v);
        return new long[] {o, o + m.elements(v), v.dtype() == DType.I32 ? 1 : 0};
    }

    static boolean overlaps(long[] x, long[] y) {
        return x[2] == y[2] && x[0] < y[1] && y[0] < x[1];
    }
}
