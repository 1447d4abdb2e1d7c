package dev.mixlab.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.*;
import dev.mixlab.passes.MemoryPlan;
import dev.mixlab.train.Programs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The nodes folded into earlier launches (planning only, no GPU): adds into their operands' producers,
 * the loss gradient into the loss, dropout gradients into the norm gradients that write their input. What matters: a run with the folds never reads bytes that something
 * else has overwritten. The test replays the program over the memory plan, tracking which value owns
 * every element, with each folded node's reads and writes done at the launch that computes it; every
 * read must find the value it expects.
 */
class FoldPlanTest {
    /**
     * What a node's kernels read in the float and int arenas: at BF16 precision products read only the
     * bf16 copies of their operands (as in CudaExecutable); otherwise every input.
     */
    static List<Value> reads(Node n, boolean bf16) {
        return bf16 && n.op() instanceof MatMul ? List.of() : n.inputs();
    }

    /** The memory plan CudaExecutable makes: at BF16 precision, values that live only as bf16 get no float bytes. */
    static MemoryPlan memory(Program p, boolean bf16) {
        if (!bf16) return MemoryPlan.plan(p);
        HalfPlan h = HalfPlan.of(p, HalfPlanTest.NEEDS, HalfPlanTest.WRITES, HalfPlanTest.READS);
        return MemoryPlan.plan(p, h::direct);
    }

    /** Epilogues as CudaExecutable folds them, where storage types agree (float32 products): a bias add, a tanh GELU. */
    static final FoldPlan.Epilogue EPILOGUE = (prod, chain, g) -> !(g.op() instanceof Unary u) || u.fn() == UnaryFn.GELU_TANH;

    static FoldPlan plan(Program p, MemoryPlan m, boolean bf16) {
        return FoldPlan.of(p, m, add -> true, CudaExecutable::accumulates, CudaExecutable::drops, EPILOGUE, n -> reads(n, bf16));
    }

    /** A GPT-2-shaped step: biases everywhere and the tanh GELU. */
    static Program gpt2() {
        return dev.mixlab.train.SmallGpt.trainStep("gelu_tanh", true);
    }

    @Test
    void biasesAndTheTanhGeluRunInTheProductsEpilogues() {
        Program p = gpt2();
        MemoryPlan m = memory(p, false);
        FoldPlan a = plan(p, m, false);
        int biases = 0, gelus = 0, fcWithBoth = 0;
        for (Node n : p.nodes()) {
            if (!(n.op() instanceof MatMul)) continue;
            List<Node> chain = a.foldedAt(n);
            long b = chain.stream().filter(g -> g.op() instanceof Add && FoldPlan.bias(g)).count();
            long u = chain.stream().filter(g -> g.op() instanceof Unary).count();
            biases += b;
            gelus += u;
            if (b == 1 && u == 1) {
                fcWithBoth++;
                assertTrue(a.written(n, chain.getFirst().output()), "the pre-activation is written (as aux) for the GELU's gradient");
                assertFalse(a.written(n, n.output()), "the product before the bias is never written");
            }
        }
        // per layer: q, k, v, attention out, fc and MLP out biases; the fc's GELU
        assertEquals(2 * 6, biases);
        assertEquals(2, gelus);
        assertEquals(2, fcWithBoth);
        assertEquals(List.of(), violations(p, m, a, false));
    }

    @Test
    void nanoGptFoldsTheBranchAndResidualGradientSums() {
        Program p = HalfPlanTest.nanoGpt();
        MemoryPlan m = memory(p, true);
        FoldPlan a = plan(p, m, true);
        int products = 0, norms = 0, losses = 0, dropouts = 0;
        for (Node n : p.nodes()) {
            if (a.foldedAt(n).isEmpty()) continue;
            Node g = a.foldedAt(n).getFirst();
            for (Node k : a.foldedAt(n)) {
                assertTrue(a.folded(k));
                assertSame(n, a.foldedInto(k));
            }
            if (n.op() instanceof MatMul) products++;
            if (n.op() instanceof LayerNormGrad && a.addOf(n) != null) norms++;
            if (n.op() instanceof CrossEntropy && g.op() instanceof CrossEntropyGrad) losses++;
            Node dr = a.dropoutOf(n);
            if (dr != null) {
                dropouts++;
                assertInstanceOf(LayerNormGrad.class, n.op());
                // it drops exactly what the launch writes as dx: the folded add's output, or the gradient's own
                assertSame(a.addOf(n) != null ? a.addOf(n).output() : n.outputs().getFirst(), dr.input(0));
            }
        }
        assertEquals(1, losses, "the loss gradient folded into the loss");
        // per layer: dx of q/k/v summed by two products; the residual gradient summed into both norm gradients
        assertEquals(2 * 2, products, "q/k/v input-gradient sums folded");
        assertEquals(2 * 2, norms, "residual gradient sums folded into the norm gradients");
        // per layer the attention and MLP branches' dropouts, each of a residual gradient a norm gradient
        // writes; the embedding's dropout is the only reader of its input, which the launch would then not write
        assertEquals(2 * 2, dropouts, "dropout gradients folded into the norm gradients");
        assertEquals(products + norms + losses + dropouts, a.size());
        assertEquals(List.of(), violations(p, m, a, true), "a replay of the folded run");
    }

    /** An epilogue holds one bias and one activation: in gelu(gelu(x·W + b)) only the bias and the first GELU fold. */
    @Test
    void anEpilogueTakesOneActivation() {
        ProgramBuilder b = new ProgramBuilder("t");
        Value x = b.param("x", Shape.of(16, 32), Init.normal(1));
        Value w = b.param("w", Shape.of(64, 32), Init.normal(1));
        Value bias = b.param("b", Shape.of(64), Init.normal(1));
        Value pre = b.add(b.matmul(x, w, false, true), bias);
        Value g1 = b.unary(UnaryFn.GELU_TANH, pre);
        Value g2 = b.unary(UnaryFn.GELU_TANH, g1);
        b.output("y", g2);
        Program p = b.build();
        MemoryPlan m = MemoryPlan.plan(p);
        FoldPlan a = plan(p, m, false);
        Node product = p.nodes().stream().filter(n -> n.op() instanceof MatMul).findFirst().orElseThrow();
        List<Node> chain = a.foldedAt(product);
        assertEquals(2, chain.size(), "the bias add and the first GELU: " + chain);
        assertSame(g1, chain.getLast().output());
        assertFalse(a.folded(p.nodes().stream().filter(n -> n.output() == g2).findFirst().orElseThrow()), "the second GELU launches itself");
        assertEquals(List.of(), violations(p, m, a, false));
    }

    /**
     * At BF16 precision a fold may write a bf16-only value early (a GELU's output in the product's epilogue,
     * the loss gradient in the loss's pass). The copies' arena must then keep that copy apart from every
     * copy alive at the earlier launch: planned with the launch indices, no two copies busy at the same
     * time share bytes; planned without them, the forward pass of a tanh-GELU model has such a clash
     * (the GELU's output over the bf16 input of the product that writes it), which is what this catches.
     */
    @Test
    void bf16CopiesWrittenEarlyNeverShareBytesWithLiveOnes() {
        Config c = dev.mixlab.train.SmallGpt.config("gelu_tanh", false);
        int clashesWithout = 0;
        for (Program p : List.of(Programs.trainStep(c, Programs.batch(c)), Programs.eval(c, Programs.batch(c)), HalfPlanTest.nanoGpt())) {
            HalfPlan h0 = HalfPlan.of(p, HalfPlanTest.NEEDS, HalfPlanTest.WRITES, HalfPlanTest.READS);
            MemoryPlan m = MemoryPlan.plan(p, h0::direct);
            FoldPlan a = plan(p, m, true);
            java.util.function.ToIntFunction<Node> launch = n -> a.foldedInto(n) != null ? a.foldedInto(n).index() : n.index();
            HalfPlan h = HalfPlan.of(p, HalfPlanTest.NEEDS, HalfPlanTest.WRITES, HalfPlanTest.READS, launch);
            assertEquals(List.of(), copyClashes(p, h, launch), "copies placed with the folds");
            clashesWithout += copyClashes(p, h0, launch).size();
        }
        assertTrue(clashesWithout > 0, "placing copies without the folds clashes somewhere (the case this test exists for)");
    }

    /** Pairs of bf16 copies busy at the same time (from the launch writing them to their last reader) that share bytes. */
    private static List<String> copyClashes(Program p, HalfPlan h, java.util.function.ToIntFunction<Node> launch) {
        Map<Value, int[]> busy = new HashMap<>();
        Map<Value, Node> producer = new HashMap<>();
        for (Node n : p.nodes()) for (Value o : n.outputs()) producer.put(h.root(o), n);
        for (Value v : h.leaves()) busy.put(v, new int[] {-1, p.nodes().size()});
        for (Node n : p.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                Value r = h.root(n.input(i));
                if (!h.has(r) || h.leaves().contains(r)) continue;
                if (!h.direct(r) && !HalfPlanTest.NEEDS.test(n, i)) continue;
                Node prod = producer.get(r);
                int[] b = busy.computeIfAbsent(r, k -> new int[] {launch.applyAsInt(prod), prod.index()});
                b[1] = Math.max(b[1], n.index());
            }
        }
        for (Value o : p.outputs().values()) if (busy.containsKey(h.root(o))) busy.get(h.root(o))[1] = p.nodes().size();
        List<Value> vs = new ArrayList<>(busy.keySet());
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < vs.size(); i++) {
            for (int j = i + 1; j < vs.size(); j++) {
                Value x = vs.get(i), y = vs.get(j);
                int[] bx = busy.get(x), by = busy.get(y);
                if (bx[1] < by[0] || by[1] < bx[0]) continue;
                long x0 = h.offset(x), x1 = x0 + 2 * x.shape().size(), y0 = h.offset(y), y1 = y0 + 2 * y.shape().size();
                if (x0 < y1 && y0 < x1) bad.add(x + " and " + y);
            }
        }
        return bad;
    }

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(Case.of("nanoGPT", HalfPlanTest.nanoGpt()));
        cs.add(Case.of("GPT-2", gpt2()));
        dev.mixlab.train.CudaTrainingParityTest.blockCases().forEach(bc -> {
            Object[] x = bc.get();
            String blocks = (String) x[0];
            int t = (int) x[1];
            for (double drop : new double[] {0, 0.1}) {
                Config c = ConfigLoader.parse("""
                        {"model_dim": 64, "seq_len": %d, "dropout": %s, "positional_embedding": "rope", "norm_type": "rmsnorm",
                         "blocks": [%s], "training": {"batch_tokens": %d}}
                        """.formatted(t, drop, blocks, t * 4), "blocks.json");
                cs.add(Case.of(blocks + " dropout " + drop, Programs.trainStep(c, Programs.batch(c))));
            }
        });
        return cs;
    }

    record Case(String name, Program program) {
        static Case of(String name, Program p) {
            return new Case(name, p);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aReplayOfTheFoldedRunReadsOnlyWhatWasWritten(Case c) {
        Program p = c.program();
        for (boolean bf16 : new boolean[] {false, true}) {
            MemoryPlan m = memory(p, bf16);
            assertEquals(List.of(), violations(p, m, plan(p, m, bf16), bf16), bf16 ? "bf16 products" : "float32 products");
        }
    }

    /**
     * The replay can fail: folding an add into a producer whose write would clobber a value still to be
     * read is caught. Every structurally possible fold (b read only by the add, a written before b's
     * producer) is replayed alone; the plan must take none that the replay rejects, and across the
     * catalogue some such folds exist, so the memory check in the plan is doing work.
     */
    @Test
    void theReplayCatchesUnsafeFoldsAndThePlanTakesNone() {
        int unsafe = 0, taken = 0;
        for (Case c : cases()) {
            Program p = c.program();
            boolean bf16 = c.name().contains("0.1");
            MemoryPlan m = memory(p, bf16);
            FoldPlan a = plan(p, m, bf16);
            Map<Value, Node> producer = new HashMap<>();
            Map<Value, Integer> readers = new HashMap<>();
            for (Node n : p.nodes()) {
                for (Value o : n.outputs()) producer.put(o, n);
                for (Value v : n.inputs()) readers.merge(v, 1, Integer::sum);
            }
            for (Node add : p.nodes()) {
                if (!(add.op() instanceof Add) || !add.input(0).shape().equals(add.input(1).shape()) || add.input(0) == add.input(1)) continue;
                for (int side = 0; side < 2; side++) {
                    Value b = add.input(side), x = add.input(1 - side);
                    Node prod = producer.get(b);
                    if (prod == null || !CudaExecutable.accumulates(prod, b) || readers.get(b) != 1 || p.outputs().containsValue(b)) continue;
                    if (producer.containsKey(x) && producer.get(x).index() >= prod.index()) continue;
                    boolean bad = !violations(p, m, Map.of(prod, List.of(add)), bf16).isEmpty();
                    if (bad) unsafe++;
                    if (a.addOf(prod) == add) {
                        taken++;
                        assertFalse(bad, c + ": the plan folds node " + add.index() + " into " + prod.index() + " but the replay fails");
                    }
                }
            }
        }
        assertTrue(taken > 0, "the catalogue has folds");
        assertTrue(unsafe > 0, "the catalogue has unsafe folds, which the replay must catch");
    }

    static List<String> violations(Program p, MemoryPlan m, FoldPlan a, boolean bf16) {
        Map<Node, List<Node>> at = new HashMap<>();
        for (Node n : p.nodes()) if (!a.foldedAt(n).isEmpty()) at.put(n, a.foldedAt(n));
        return violations(p, m, at, bf16);
    }

    /**
     * Replays p over m's float and int buffers with each launch's folds (launching node → folded nodes):
     * the launch reads what it reads plus the folded nodes' inputs it does not make itself, and writes
     * every value it makes (its outputs and the folded nodes') except those whose every reader is folded
     * into it. Returns each read that finds another value's bytes.
     */
    static List<String> violations(Program p, MemoryPlan m, Map<Node, List<Node>> at, boolean bf16) {
        int[] root = roots(p);
        Map<Value, List<Node>> readers = new HashMap<>();
        for (Node n : p.nodes()) for (Value v : n.inputs()) readers.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
        Set<Value> outputs = new HashSet<>(p.outputs().values());
        List<TreeMap<Long, long[]>> arenas = List.of(new TreeMap<>(), new TreeMap<>());   // start → {end, owner root}
        List<Value> leaves = new ArrayList<>(p.params());
        leaves.addAll(p.state());
        leaves.addAll(p.inputs());
        for (Value v : leaves) write(arenas, m, v, root);
        Set<Node> folded = new HashSet<>();
        at.values().forEach(folded::addAll);
        List<String> bad = new ArrayList<>();
        for (Node n : p.nodes()) {
            if (folded.contains(n)) continue;
            List<Node> gs = at.getOrDefault(n, List.of());
            List<Value> made = new ArrayList<>(n.outputs()), reads = new ArrayList<>(reads(n, bf16)), writes = new ArrayList<>();
            for (Node g : gs) {
                for (Value v : g.inputs()) if (!made.contains(v)) reads.add(v);
                made.addAll(g.outputs());
            }
            for (Value v : made) if (outputs.contains(v) || !gs.containsAll(readers.getOrDefault(v, List.of())) || readers.getOrDefault(v, List.of()).isEmpty()) writes.add(v);
            for (Value v : reads) {
                if (!owned(arenas, m, v, root)) bad.add("node " + n.index() + " (" + n.op().name() + ") reads " + v + " after it was overwritten");
            }
            for (Value o : writes) write(arenas, m, o, root);
        }
        return bad;
    }

    private static int[] roots(Program p) {
        int[] root = new int[p.valueCount()];
        for (int i = 0; i < root.length; i++) root[i] = i;
        for (Node n : p.nodes()) {
            if (n.op() instanceof Reshape) root[n.output().id()] = root[n.input(0).id()];
            int[] al = n.op().aliases();
            for (int k = 0; k < al.length; k++) if (al[k] >= 0) root[n.outputs().get(k).id()] = root[n.input(al[k]).id()];
        }
        return root;
    }

    private static void write(List<TreeMap<Long, long[]>> arenas, MemoryPlan m, Value v, int[] root) {
        long[] r = FoldPlan.range(m, v);
        if (r[0] == r[1]) return;
        TreeMap<Long, long[]> t = arenas.get((int) r[2]);
        Long k = t.lowerKey(r[1]);
        while (k != null && t.get(k)[0] > r[0]) {       // every interval that overlaps [r0, r1): trim or split it
            long[] iv = t.remove(k);
            if (k < r[0]) t.put(k, new long[] {r[0], iv[1]});
            if (iv[0] > r[1]) t.put(r[1], new long[] {iv[0], iv[1]});
            k = t.lowerKey(k);
        }
        t.put(r[0], new long[] {r[1], root[v.id()]});
    }

    private static boolean owned(List<TreeMap<Long, long[]>> arenas, MemoryPlan m, Value v, int[] root) {
        long[] r = FoldPlan.range(m, v);
        if (r[0] == r[1]) return true;
        TreeMap<Long, long[]> t = arenas.get((int) r[2]);
        long at = r[0];
        Long k = t.floorKey(at);
        while (at < r[1]) {
            if (k == null) return false;
            long[] iv = t.get(k);
            if (k > at || iv[0] <= at || iv[1] != root[v.id()]) return false;
            at = iv[0];
            k = t.higherKey(k);
        }
        return true;
    }
}
