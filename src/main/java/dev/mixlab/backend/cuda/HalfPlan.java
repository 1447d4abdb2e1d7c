package dev.mixlab.backend.cuda;

import dev.mixlab.ir.MatMul;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Reshape;
import dev.mixlab.ir.Value;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * The bf16 copies of the matrix products' operands at BF16 precision, and where they live. Every
 * value a {@link MatMul} node reads (and the tensor-core attention's inputs) gets a bf16 copy in an arena of its own; copies share memory
 * where their lifetimes (from the producer to the last node that reads them) do not overlap.
 * Reshapes are views, so a copy belongs to the root of a reshape chain. A copy is written one of
 * three ways:
 * <ul>
 *   <li>{@link #leaves()}: parameters, state and inputs, converted in one launch at the start of a run;
 *   <li>{@link #direct(Value)}: the producer writes the bf16 copy instead of float32, where the
 *       producer's kernel can ({@code writesHalf}), every reader's kernel can read bf16 there
 *       ({@code readsHalf}: products, and e.g. an activation after one), and the value is not a
 *       program output. The float32 tensor is then never written; such a value gets a copy even when
 *       no product reads it (a product's output that only an activation reads);
 *   <li>{@link #converted(Value)}: any other producer; the copy is converted right after it.
 * </ul>
 * Why: products on bf16 tensor cores read half the bytes and run at twice the TF32 rate, and the
 * values between a norm, an activation or a dropout and the product after it cost half the traffic.
 */
final class HalfPlan {
    private static final long ALIGN = 256;

    private final Map<Value, Value> root = new HashMap<>();
    private final Map<Value, Long> offset = new HashMap<>();
    private final List<Value> leaves = new ArrayList<>();
    private final Set<Value> converted = new HashSet<>();
    private final Set<Value> direct = new HashSet<>();
    private final long bytes;

    private HalfPlan(Program p, BiPredicate<Node, Integer> needsHalf, BiPredicate<Node, Integer> writesHalf,
                     BiPredicate<Node, Integer> readsHalf, java.util.function.ToIntFunction<Node> launchIndex) {
        Map<Value, Node> producer = new HashMap<>();
        Map<Value, List<Node>> readers = new HashMap<>();
        for (Node n : p.nodes()) {
            for (Value o : n.outputs()) producer.put(o, n);
            if (n.op() instanceof Reshape) root.put(n.output(), root(n.input(0)));
            for (Value v : n.inputs()) readers.computeIfAbsent(root(v), k -> new ArrayList<>()).add(n);
        }
        Map<Value, int[]> life = new HashMap<>();       // root -> {first node that needs the copy, last node reading it}
        Set<Value> roots = new LinkedHashSet<>();
        for (Node n : p.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) if (needsHalf.test(n, i)) roots.add(root(n.input(i)));
            for (int i = 0; i < n.outputs().size(); i++) if (root(n.outputs().get(i)) == n.outputs().get(i) && writesHalf.test(n, i)) roots.add(n.outputs().get(i));
        }
        Set<Value> outputs = new HashSet<>();
        for (Value o : p.outputs().values()) outputs.add(root(o));
        for (Value r : new ArrayList<>(roots)) {
            Node prod = producer.get(r);
            // a copy is busy from the launch that writes it: its producer's, or an earlier one its producer is folded into
            int first = prod == null ? -1 : Math.min(prod.index(), launchIndex.applyAsInt(prod)), last = prod == null ? -1 : prod.index();
            if (prod == null) {
                leaves.add(r);
                life.put(r, new int[] {first, p.nodes().size()});
                continue;
            }
            boolean halfOnly = !outputs.contains(r) && writesHalf.test(prod, prod.outputs().indexOf(r));
            boolean product = false;
            for (Node c : readers.getOrDefault(r, List.of())) {
                if (c.op() instanceof Reshape) continue;
                for (int i = 0; i < c.inputs().size(); i++) {
                    if (root(c.input(i)) != r) continue;
                    boolean needs = needsHalf.test(c, i);
                    product |= needs;
                    halfOnly &= needs || readsHalf.test(c, i);
                    if (needs) last = Math.max(last, c.index());
                }
            }
            if (!halfOnly && !product) {
                roots.remove(r);
                continue;
            }
            if (halfOnly) for (Node c : readers.getOrDefault(r, List.of())) last = Math.max(last, c.index());
            life.put(r, new int[] {first, last});
            if (halfOnly) direct.add(r);
            else converted.add(r);
        }
        // first fit, largest first (as MemoryPlan does for the float arena)
        List<Value> order = new ArrayList<>(roots);
        order.sort(Comparator.comparingLong((Value v) -> -v.shape().size()).thenComparingInt(Value::id));
        List<long[]> placed = new ArrayList<>();        // {offset, size, first, last}
        long top = 0;
        for (Value r : order) {
            long size = align(2 * Math.max(1, r.shape().size()));
            int[] l = life.get(r);
            List<long[]> live = new ArrayList<>();
            for (long[] b : placed) if (b[2] <= l[1] && l[0] <= b[3]) live.add(b);
            live.sort(Comparator.comparingLong(b -> b[0]));
            long at = 0;
            for (long[] b : live) {
                if (at + size <= b[0]) break;
                at = Math.max(at, b[0] + b[1]);
            }
            placed.add(new long[] {at, size, l[0], l[1]});
            offset.put(r, at);
            top = Math.max(top, at + size);
        }
        bytes = top;
    }

    /**
     * Plans the bf16 copies of program p's product operands: needsHalf says which nodes always read
     * input i from its bf16 copy (products; the tensor-core attention's q, k, v, dy), writesHalf which
     * producers' kernels can write output i as bf16 in place of float32, readsHalf which nodes can read
     * input i as bf16 where it exists only so.
     */
    static HalfPlan of(Program p, BiPredicate<Node, Integer> needsHalf, BiPredicate<Node, Integer> writesHalf,
                       BiPredicate<Node, Integer> readsHalf) {
        return new HalfPlan(p, needsHalf, writesHalf, readsHalf, Node::index);
    }

    /**
     * The same plan where some nodes run inside an earlier node's launch (see {@link FoldPlan}):
     * launchIndex gives the index of the launch that computes each node, so copies those launches write
     * early are kept apart from everything alive at that time. Which values are bf16-only does not change.
     */
    static HalfPlan of(Program p, BiPredicate<Node, Integer> needsHalf, BiPredicate<Node, Integer> writesHalf,
                       BiPredicate<Node, Integer> readsHalf, java.util.function.ToIntFunction<Node> launchIndex) {
        return new HalfPlan(p, needsHalf, writesHalf, readsHalf, launchIndex);
    }

    private static long align(long b) {
        return (b + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** The value whose buffer v views (v itself unless it is a reshape). */
    Value root(Value v) {
        return root.getOrDefault(v, v);
    }

    /** Whether v (or the value it views) has a bf16 copy. */
    boolean has(Value v) {
        return offset.containsKey(root(v));
    }

    /** Byte offset of v's bf16 copy in the arena. */
    long offset(Value v) {
        Long o = offset.get(root(v));
        if (o == null) throw new IllegalStateException("no bf16 copy planned for " + v);
        return o;
    }

    /** Whether v's producer writes only its bf16 copy. */
    boolean direct(Value v) {
        return direct.contains(root(v));
    }

    /** Parameters, state and inputs that products read. */
    List<Value> leaves() {
        return leaves;
    }

    /** Whether v is converted right after its producer (a value with a copy that its producer cannot write as bf16). */
    boolean converted(Value v) {
        return converted.contains(v);
    }

    /** Bytes of the bf16 arena. */
    long bytes() {
        return bytes;
    }
}
