package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Add;
import dev.mixlab.ir.CrossEntropy;
import dev.mixlab.ir.CrossEntropyGrad;
import dev.mixlab.ir.DType;
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
 * Nodes computed by an earlier node's launch (planning only: no GPU needed). Two kinds:
 * <ul>
 *   <li><b>Adds</b>: a same-shape add {@code y = a + b} is computed by the node writing b as it writes
 *   (a product by cuBLASLt's {@code D = A·B + C}, a norm gradient by adding a in its dx kernel). The
 *   backward sums every residual and q/k/v branch gradient with such adds; each fold saves a launch
 *   and a read and a write of y (nanoGPT's step has 24 adds of 16384×384 floats).</li>
 *   <li><b>Loss gradients</b>: the softmax cross-entropy's gradient is written by the loss's own
 *   kernel, which already has each row's log-sum-exp: the logits are read once, not twice.</li>
 * </ul>
 *
 * <p>A fold moves the write of the folded node's output y to the earlier node, so it is planned only
 * where that is safe in the memory plan: everything the folded node reads is written before the
 * earlier node runs, and y's bytes are used neither by the earlier node's reads and other writes nor
 * by any node between the two. For adds, b must have no other reader and not be a program output (it
 * is never written); y may be exactly a (each element is read before it is written), and a norm
 * gradient may write y over exactly the bytes of its x or dy (each warp reads its rows whole before
 * writing them).
 */
final class FoldPlan {
    /** folded node → the node whose launch computes it, and back. */
    private final Map<Node, Node> into = new HashMap<>(), at = new HashMap<>();

    private FoldPlan() {}

    /**
     * Plans the folds of program p under memory plan m. candidate: the nodes that may fold (not those
     * computed some other fused way); accumulates: whether a node's kernel can add into that output;
     * reads: what a node's kernels read in the float and int arenas (its inputs, what a fused kernel
     * reads instead, or nothing for a product that reads only bf16 copies).
     */
    static FoldPlan of(Program p, MemoryPlan m, Predicate<Node> candidate, BiPredicate<Node, Value> accumulates,
                       Function<Node, List<Value>> reads) {
        FoldPlan plan = new FoldPlan();
        Map<Value, Node> producers = new HashMap<>();
        Map<Value, Integer> readers = new HashMap<>();
        for (Node n : p.nodes()) {
            for (Value v : n.outputs()) producers.put(v, n);
            for (Value v : n.inputs()) readers.merge(v, 1, Integer::sum);
        }
        for (Node g : p.nodes()) {
            if (!candidate.test(g)) continue;
            if (g.op() instanceof Add) plan.planAdd(p, m, g, producers, readers, accumulates, reads);
            if (g.op() instanceof CrossEntropyGrad) plan.planLossGrad(p, m, g, producers, reads);
        }
        return plan;
    }

    private void planAdd(Program p, MemoryPlan m, Node add, Map<Value, Node> producers, Map<Value, Integer> readers,
                         BiPredicate<Node, Value> accumulates, Function<Node, List<Value>> reads) {
        if (!add.input(0).shape().equals(add.input(1).shape()) || add.input(0) == add.input(1)) return;
        for (int side = 1; side >= 0; side--) {
            Value b = add.input(side), a = add.input(1 - side);
            Node prod = producers.get(b);
            if (prod == null || at.containsKey(prod) || !accumulates.test(prod, b)) continue;
            if (readers.get(b) != 1 || p.outputs().containsValue(b)) continue;
            if (!writtenBefore(a, prod, producers)) continue;
            // a row-wise kernel (a norm gradient) may write y over exactly the bytes of a same-shape input; a product may not
            boolean rowWise = !(prod.op() instanceof MatMul);
            if (!free(p, m, reads, add, prod, b, v -> v == a || rowWise)) continue;
            link(add, prod);
            return;
        }
    }

    /** The loss node reading the same logits and targets before it, if the gradient's dloss is written by then. */
    private void planLossGrad(Program p, MemoryPlan m, Node grad, Map<Value, Node> producers, Function<Node, List<Value>> reads) {
        for (Node f : p.nodes().subList(0, grad.index())) {
            if (!(f.op() instanceof CrossEntropy) || at.containsKey(f)) continue;
            if (f.input(0) != grad.input(0) || f.input(1) != grad.input(1)) continue;
            if (!writtenBefore(grad.input(2), f, producers)) continue;
            if (!free(p, m, reads, grad, f, null, v -> false)) continue;
            link(grad, f);
            return;
        }
    }

    private void link(Node folded, Node by) {
        into.put(folded, by);
        at.put(by, folded);
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

    /** The node computed by node n's launch (null if none). */
    Node foldedAt(Node n) {
        return at.get(n);
    }

    /** The add node n computes as it writes its output (null if none). */
    Node addOf(Node n) {
        Node g = at.get(n);
        return g != null && g.op() instanceof Add ? g : null;
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
     * What node n's launch reads and writes with its fold: n's reads plus the folded node's inputs that n
     * does not write; n's outputs, less the one the folded node consumes, plus the folded node's outputs.
     * {reads, writes}.
     */
    List<List<Value>> effects(Node n, Function<Node, List<Value>> reads) {
        List<Value> r = new ArrayList<>(reads.apply(n)), w = new ArrayList<>(n.outputs());
        Node g = at.get(n);
        if (g != null) {
            for (Value v : g.inputs()) if (!n.outputs().contains(v) && !r.contains(v)) r.add(v);
            w.removeAll(g.inputs());
            w.addAll(g.outputs());
        }
        return List.of(r, w);
    }

    /**
     * Whether g's outputs may be written at node by's launch: their bytes are not used by by's reads
     * (except exactly, for the values mayEqual allows) or other writes, nor by any node in between.
     */
    private boolean free(Program p, MemoryPlan m, Function<Node, List<Value>> reads, Node g, Node by, Value consumed,
                         Predicate<Value> mayEqual) {
        for (Value y : g.outputs()) {
            long[] yr = range(m, y);
            List<Value> in = new ArrayList<>(reads.apply(by));
            for (Value v : g.inputs()) if (v != consumed) in.add(v);
            for (Value v : in) {
                long[] r = range(m, v);
                boolean same = r[0] == yr[0] && r[1] == yr[1] && r[2] == yr[2] && v.shape().equals(y.shape());
                if (overlaps(yr, r) && !(same && mayEqual.test(v))) return false;
            }
            for (Value o : by.outputs()) if (o != consumed && overlaps(yr, range(m, o))) return false;
            for (Node k : p.nodes().subList(by.index() + 1, g.index())) {
                List<List<Value>> e = effects(k, reads);
                for (List<Value> vs : e) for (Value v : vs) if (overlaps(yr, range(m, v))) return false;
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
