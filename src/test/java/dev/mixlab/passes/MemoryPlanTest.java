package dev.mixlab.passes;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.ir.*;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The memory plan: buffers alive at the same time never share bytes (liveness recomputed here from
 * the program), and values a backend keeps elsewhere get none.
 */
class MemoryPlanTest {
    static Program nanoGpt() {
        return dev.mixlab.train.SmallGpt.trainStep("gelu", false);
    }

    @Test
    void buffersAliveTogetherNeverShareBytes() {
        Program p = nanoGpt();
        assertDisjointWhileAlive(p, MemoryPlan.plan(p), v -> false);
    }

    @Test
    void valuesKeptElsewhereGetNoBytes() {
        Program p = nanoGpt();
        Predicate<Value> gelu = v -> p.nodes().stream().anyMatch(n -> n.op() instanceof Unary && n.output() == v);
        MemoryPlan all = MemoryPlan.plan(p), some = MemoryPlan.plan(p, gelu);
        int kept = 0;
        for (Node n : p.nodes()) {
            if (!(n.op() instanceof Unary)) continue;
            assertFalse(some.placed(n.output()), "GELU output " + n.output() + " is kept elsewhere");
            assertEquals(0, some.elements(n.output()));
            assertTrue(all.placed(n.output()));
            kept++;
        }
        assertEquals(2, kept);
        assertTrue(some.floatElements() < all.floatElements(), some.floatElements() + " vs " + all.floatElements());
        assertDisjointWhileAlive(p, some, gelu);
    }

    /** Recomputes each buffer's lifetime (first write to last read; program outputs to the end) and checks overlaps. */
    private static void assertDisjointWhileAlive(Program p, MemoryPlan m, Predicate<Value> elsewhere) {
        Map<Value, Value> root = new HashMap<>();
        Map<Value, int[]> life = new HashMap<>();
        for (Node n : p.nodes()) {
            int[] al = n.op().aliases();
            for (int k = 0; k < n.outputs().size(); k++) {
                Value o = n.outputs().get(k);
                Value r = n.op() instanceof Reshape ? root.getOrDefault(n.input(0), n.input(0))
                        : k < al.length && al[k] >= 0 ? root.getOrDefault(n.input(al[k]), n.input(al[k])) : o;
                root.put(o, r);
                life.computeIfAbsent(r, x -> new int[] {n.index(), n.index()})[1] = n.index();
            }
            for (Value v : n.inputs()) {
                int[] l = life.get(root.getOrDefault(v, v));
                if (l != null) l[1] = Math.max(l[1], n.index());
            }
        }
        for (Value o : p.outputs().values()) {
            int[] l = life.get(root.getOrDefault(o, o));
            if (l != null) l[1] = p.nodes().size();
        }
        List<Value> bufs = new ArrayList<>(life.keySet());
        for (Value b : bufs) {
            assertEquals(!elsewhere.test(b), m.placed(b), b + " placed");
            if (m.placed(b)) assertTrue(m.offset(b) + m.elements(b) <= (b.dtype() == DType.I32 ? m.intElements() : m.floatElements()));
        }
        for (int i = 0; i < bufs.size(); i++) {
            for (int j = i + 1; j < bufs.size(); j++) {
                Value x = bufs.get(i), y = bufs.get(j);
                if (x.dtype() == DType.I32 != (y.dtype() == DType.I32)) continue;
                int[] lx = life.get(x), ly = life.get(y);
                if (lx[1] < ly[0] || ly[1] < lx[0]) continue;
                long x0 = m.offset(x), x1 = x0 + m.elements(x), y0 = m.offset(y), y1 = y0 + m.elements(y);
                assertTrue(x1 <= y0 || y1 <= x0 || x0 == x1 || y0 == y1, x + " and " + y + " are alive together and share bytes");
            }
        }
        // leaves (parameters, state, inputs) never share with anything
        long leafEnd = m.persistentFloats();
        List<Value> leaves = new ArrayList<>(p.params());
        leaves.addAll(p.state());
        leaves.addAll(p.inputs());
        for (Value b : bufs) {
            if (b.dtype() != DType.I32 && m.placed(b) && !leaves.contains(b)) assertTrue(m.offset(b) >= leafEnd, b + " overlaps the leaves");
        }
    }
}
