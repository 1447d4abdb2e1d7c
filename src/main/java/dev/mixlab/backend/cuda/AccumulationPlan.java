package dev.mixlab.backend.cuda;

import dev.mixlab.ir.DType;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.passes.MemoryPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Which same-shape adds {@code y = a + b} the node writing b computes as it writes (a product by
 * cuBLASLt's {@code D = A·B + C}, a norm gradient by adding a in its dx kernel). Why: the backward
 * sums every residual and q/k/v branch gradient with such adds; each fold saves a launch and a read
 * and a write of y (nanoGPT's step has 24 adds of 16384×384 floats).
 *
 * <p>A fold moves the write of y from the add to b's producer, so it is planned only where that is
 * safe in the memory plan: b has no other reader and is not a program output (it is never written),
 * a is written before the producer runs, and y's bytes are used neither by the producer's inputs and
 * other outputs nor by any node between the producer and the add. y may be exactly a (each element
 * is read before it is written), and a norm gradient may write y over exactly the bytes of its x or
 * dy (each warp reads its rows whole before writing them). Planning only: no GPU needed.
 */
final class AccumulationPlan {
    private final Map<Node, Node> addOf = new HashMap<>();
    private final Set<Node> folded = new HashSet<>();

    private AccumulationPlan() {}

    /**
     * Plans the folds of program p under memory plan m. candidate: the adds that may fold (not those
     * computed some other fused way); accumulates: whether a node's kernel can add into that output;
     * reads: what a node's kernels read in the float and int arenas (its inputs, what a fused kernel
     * reads instead, or nothing for a product that reads only bf16 copies).
     */
    static AccumulationPlan of(Program p, MemoryPlan m, Predicate<Node> candidate, BiPredicate<Node, Value> accumulates,
                               Function<Node, List<Value>> reads) {
        AccumulationPlan plan = new AccumulationPlan();
        Map<Value, Node> producers = new HashMap<>();
        Map<Value, Integer> readers = new HashMap<>();
        for (Node n : p.nodes()) {
            for (Value v : n.outputs()) producers.put(v, n);
            for (Value v : n.inputs()) readers.merge(v, 1, Integer::sum);
        }
        for (Node add : p.nodes()) {
            if (!(add.op() instanceof dev.mixlab.ir.Add) || !candidate.test(add)) continue;
            if (!add.input(0).shape().equals(add.input(1).shape()) || add.input(0) == add.input(1)) continue;
            for (int side = 1; side >= 0; side--) {
                Value b = add.input(side), a = add.input(1 - side);
                Node prod = producers.get(b);
                if (prod == null || plan.addOf.containsKey(prod) || !accumulates.test(prod, b)) continue;
                if (readers.get(b) != 1 || p.outputs().containsValue(b)) continue;
                Node pa = producers.get(a);
                if (pa != null && pa.index() >= prod.index()) continue;
                if (!plan.free(p, m, reads, range(m, add.output()), prod, b, add, a)) continue;
                plan.addOf.put(prod, add);
                plan.folded.add(add);
                break;
            }
        }
        return plan;
    }

    /** The add node n computes as it writes its output (null if none). */
    Node addOf(Node n) {
        return addOf.get(n);
    }

    /** The other operand of the add folded into n (the one n does not write), or null. */
    Value operand(Node n) {
        Node add = addOf.get(n);
        if (add == null) return null;
        return add.input(add.input(0) == n.output() ? 1 : 0);
    }

    /** Whether add is computed by its operand's producer (and so launches nothing itself). */
    boolean folded(Node add) {
        return folded.contains(add);
    }

    /** How many adds are folded. */
    int size() {
        return folded.size();
    }

    private boolean free(Program p, MemoryPlan m, Function<Node, List<Value>> reads, long[] y, Node prod, Value b, Node add, Value a) {
        // a row-wise kernel (a norm gradient: each warp reads its rows of x, dy and a before writing those of
        // dx) may write y over exactly the bytes of a same-shape input; a product may not write over its operands
        boolean rowWise = !(prod.op() instanceof dev.mixlab.ir.MatMul);
        List<Value> in = new ArrayList<>(reads.apply(prod));
        in.add(a);
        for (Value v : in) {
            long[] r = range(m, v);
            boolean same = r[0] == y[0] && r[1] == y[1] && r[2] == y[2] && v.shape().equals(add.output().shape());
            if (overlaps(y, r) && !(same && (rowWise || v == a))) return false;
        }
        for (Value o : prod.outputs()) if (o != b && overlaps(y, range(m, o))) return false;
        for (Node k : p.nodes().subList(prod.index() + 1, add.index())) {
            List<Value> touched = new ArrayList<>(reads.apply(k));
            touched.addAll(k.outputs());
            Node f = addOf.get(k);
            if (f != null) touched.add(f.output());
            for (Value v : touched) if (overlaps(y, range(m, v))) return false;
        }
        return true;
    }

    /** {arena (0 float, 1 int), first element, end element} of v in the plan. */
    static long[] range(MemoryPlan m, Value v) {
        long o = m.offset(v);
        return new long[] {o, o + m.elements(v), v.dtype() == DType.I32 ? 1 : 0};
    }

    static boolean overlaps(long[] x, long[] y) {
        return x[2] == y[2] && x[0] < y[1] && y[0] < x[1];
    }
}
