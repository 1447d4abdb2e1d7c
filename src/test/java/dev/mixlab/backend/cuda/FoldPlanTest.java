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
 * the loss gradient into the loss. What matters: a run with the folds never reads bytes that something
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

    static FoldPlan plan(Program p, MemoryPlan m, boolean bf16) {
        return FoldPlan.of(p, m, add -> true, CudaExecutable::accumulates, n -> reads(n, bf16));
    }

    @Test
    void nanoGptFoldsTheBranchAndResidualGradientSums() {
        Program p = HalfPlanTest.nanoGpt();
        MemoryPlan m = memory(p, true);
        FoldPlan a = plan(p, m, true);
        int products = 0, norms = 0, losses = 0;
        for (Node n : p.nodes()) {
            Node g = a.foldedAt(n);
            if (g == null) continue;
            assertTrue(a.folded(g));
            assertSame(n, a.foldedInto(g));
            if (n.op() instanceof MatMul) products++;
            if (n.op() instanceof LayerNormGrad) norms++;
            if (n.op() instanceof CrossEntropy && g.op() instanceof CrossEntropyGrad) losses++;
        }
        assertEquals(1, losses, "the loss gradient folded into the loss");
        // per layer: dx of q/k/v summed by two products; the residual gradient summed into both norm gradients
        assertEquals(2 * 2, products, "q/k/v input-gradient sums folded");
        assertEquals(2 * 2, norms, "residual gradient sums folded into the norm gradients");
        assertEquals(products + norms + losses, a.size());
        assertEquals(List.of(), violations(p, m, a, true), "a replay of the folded run");
    }

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(Case.of("nanoGPT", HalfPlanTest.nanoGpt()));
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
                    boolean bad = !violations(p, m, Map.of(prod, add), bf16).isEmpty();
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
        Map<Node, Node> at = new HashMap<>();
        for (Node n : p.nodes()) if (a.foldedAt(n) != null) at.put(n, a.foldedAt(n));
        return violations(p, m, at, bf16);
    }

    /**
     * Replays p over m's float and int buffers with each fold (launching node → folded node): the launch
     * reads what it reads plus the folded node's inputs it does not write itself, and writes its outputs,
     * less the one the folded node consumes, plus the folded node's outputs. Returns each read that finds
     * another value's bytes.
     */
    static List<String> violations(Program p, MemoryPlan m, Map<Node, Node> at, boolean bf16) {
        int[] root = roots(p);
        List<TreeMap<Long, long[]>> arenas = List.of(new TreeMap<>(), new TreeMap<>());   // start → {end, owner root}
        List<Value> leaves = new ArrayList<>(p.params());
        leaves.addAll(p.state());
        leaves.addAll(p.inputs());
        for (Value v : leaves) write(arenas, m, v, root);
        Set<Node> folded = new HashSet<>(at.values());
        List<String> bad = new ArrayList<>();
        for (Node n : p.nodes()) {
            if (folded.contains(n)) continue;
            Node g = at.get(n);
            List<Value> reads = new ArrayList<>(reads(n, bf16)), writes = new ArrayList<>(n.outputs());
            if (g != null) {
                for (Value v : g.inputs()) if (!n.outputs().contains(v)) reads.add(v);
                writes.removeAll(g.inputs());
                writes.addAll(g.outputs());
            }
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
