package dev.mixlab.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.*;
import dev.mixlab.train.Programs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The plan of bf16 operand copies (no GPU needed: it is planning only). What the CUDA executable relies
 * on: every input a node needs as bf16 has a copy; a value lives only as bf16 just where every reader
 * can read that and it is not a program output; and two copies alive at the same time never share
 * bytes. The predicates here follow CudaExecutable's rules for products, activations, norms and dropout.
 */
class HalfPlanTest {
    static final BiPredicate<Node, Integer> NEEDS = (n, i) -> n.op() instanceof MatMul;
    static final BiPredicate<Node, Integer> WRITES = (n, i) -> i == 0 && (n.op() instanceof MatMul || n.op() instanceof Unary
            || n.op() instanceof UnaryGrad || n.op() instanceof LayerNorm || n.op() instanceof RmsNorm || n.op() instanceof Dropout
            || n.op() instanceof CrossEntropyGrad);
    static final BiPredicate<Node, Integer> READS = (n, i) -> NEEDS.test(n, i) || (n.op() instanceof Unary && i == 0)
            || (n.op() instanceof UnaryGrad && i <= 1);

    static Program nanoGpt() {
        return dev.mixlab.train.SmallGpt.trainStep("gelu", false);
    }

    @Test
    void everyProductOperandHasACopyAndLiveCopiesNeverShareBytes() {
        checkInvariants(nanoGpt());
    }

    /** The same invariants over the training step of every block type (the CUDA parity suite's catalogue). */
    @ParameterizedTest(name = "T={1} {0}")
    @MethodSource("dev.mixlab.train.CudaTrainingParityTest#blockCases")
    void invariantsHoldForEveryBlockType(String blocks, int seqLen) {
        Config c = ConfigLoader.parse("""
                {"model_dim": 64, "seq_len": %d, "dropout": 0.1, "positional_embedding": "rope", "norm_type": "rmsnorm",
                 "blocks": [%s], "training": {"batch_tokens": %d}}
                """.formatted(seqLen, blocks, seqLen * 4), "blocks.json");
        checkInvariants(Programs.trainStep(c, Programs.batch(c)));
    }

    private static void checkInvariants(Program p) {
        HalfPlan h = HalfPlan.of(p, NEEDS, WRITES, READS);
        Map<Value, Node> producer = new HashMap<>();
        Map<Value, List<Node>> readers = new HashMap<>();
        for (Node n : p.nodes()) {
            for (Value o : n.outputs()) producer.put(o, n);
            for (Value v : n.inputs()) readers.computeIfAbsent(h.root(v), k -> new ArrayList<>()).add(n);
        }
        Set<Value> outputs = new HashSet<>();
        for (Value o : p.outputs().values()) outputs.add(h.root(o));
        Map<Value, int[]> life = new HashMap<>();
        for (Node n : p.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                if (!NEEDS.test(n, i)) continue;
                Value r = h.root(n.input(i));
                assertTrue(h.has(r), "operand " + i + " of node " + n.index() + " has no bf16 copy");
                int first = producer.containsKey(r) ? producer.get(r).index() : -1;
                int[] l = life.computeIfAbsent(r, k -> new int[] {first, first});
                l[1] = producer.containsKey(r) ? Math.max(l[1], n.index()) : p.nodes().size();
            }
        }
        for (Value r : h.leaves()) assertFalse(producer.containsKey(r), r + " is a leaf but has a producer");
        for (Value r : life.keySet()) assertFalse(h.converted(r) && h.direct(r), r + " is both converted and direct");
        for (Value r : life.keySet()) {
            if (!h.direct(r)) continue;
            assertFalse(outputs.contains(r), r + " is a program output, so it must exist as float32");
            Node prod = producer.get(r);
            assertTrue(WRITES.test(prod, prod.outputs().indexOf(r)), r + " is direct but its producer cannot write bf16");
            for (Node c : readers.getOrDefault(r, List.of())) {
                if (c.op() instanceof Reshape) continue;
                for (int i = 0; i < c.inputs().size(); i++) {
                    if (h.root(c.input(i)) == r) assertTrue(READS.test(c, i), r + " is direct but node " + c.index() + " reads float32");
                }
                life.get(r)[1] = Math.max(life.get(r)[1], c.index());
            }
        }
        List<Value> copies = new ArrayList<>(life.keySet());
        for (int a = 0; a < copies.size(); a++) {
            for (int b = a + 1; b < copies.size(); b++) {
                Value x = copies.get(a), y = copies.get(b);
                int[] lx = life.get(x), ly = life.get(y);
                if (lx[1] < ly[0] || ly[1] < lx[0]) continue;      // never alive together
                long x0 = h.offset(x), x1 = x0 + 2 * x.shape().size(), y0 = h.offset(y), y1 = y0 + 2 * y.shape().size();
                assertTrue(x1 <= y0 || y1 <= x0, x + " and " + y + " are alive together and share bytes");
                assertTrue(x1 <= h.bytes() && y1 <= h.bytes(), "a copy ends past the arena");
            }
        }
    }

    @Test
    void normsActivationsAndProductsFeedingProductsWriteOnlyBf16() {
        Program p = nanoGpt();
        HalfPlan h = HalfPlan.of(p, NEEDS, WRITES, READS);
        int norms = 0, gelus = 0, preActivations = 0, residual = 0;
        for (Node n : p.nodes()) {
            Value o = n.outputs().getFirst();
            switch (n.op()) {
                case LayerNorm ln when h.has(o) -> {   // the norms before q/k/v and the MLP: only products read them
                    assertTrue(h.direct(o), "layer norm " + n.index() + " should write bf16 only");
                    norms++;
                }
                case Unary u -> {
                    assertTrue(h.direct(o), "GELU " + n.index() + " should write bf16 only");
                    assertTrue(h.direct(n.input(0)), "the product before GELU " + n.index() + " should write bf16 only");
                    gelus++;
                    preActivations++;
                }
                case Add a -> {
                    assertFalse(h.has(o) && h.direct(o), "the residual stream stays float32");
                    residual++;
                }
                default -> { }
            }
        }
        assertTrue(norms >= 4 && gelus == 2 && preActivations == 2 && residual > 0, norms + " " + gelus + " " + residual);
        for (Value w : p.params()) {
            if (w.shape().rank() == 2 && h.has(w)) assertTrue(h.leaves().contains(w), w.name() + " should be copied at the start");
        }
    }

    @Test
    void aProgramOutputIsNeverBf16Only() {
        ProgramBuilder b = new ProgramBuilder("t");
        Value x = b.param("x", Shape.of(4, 8), Init.normal(1));
        Value w = b.param("w", Shape.of(16, 8), Init.normal(1));
        Value w2 = b.param("w2", Shape.of(8, 16), Init.normal(1));
        Value y = b.matmul(x, w, false, true);
        Value z = b.unary(UnaryFn.GELU, y);
        Value out = b.matmul(z, w2, false, true);
        b.output("y", y);
        b.output("out", out);
        Program p = b.build();
        HalfPlan h = HalfPlan.of(p, NEEDS, WRITES, READS);
        assertFalse(h.has(y), "y is read only by GELU and is an output: no copy");
        assertTrue(h.direct(z), "GELU's output is read only by a product");
        assertFalse(h.has(out), "nothing reads the last product as bf16");
        assertEquals(Set.of(x, w, w2), new HashSet<>(h.leaves()));
    }
}
