package dev.mixlab.passes;

import dev.mixlab.ir.*;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Where every value of a program lives: an element offset into one float arena or one int arena,
 * computed once from liveness. Parameters, state and inputs get their own regions; node outputs
 * share memory when their lifetimes do not overlap (greedy by size, first fit). Reshapes are views
 * of their input, and in-place updates write into the buffer they update.
 */
public final class MemoryPlan {
    /** Offsets are multiples of this many elements (64 bytes), so vector loads start aligned. */
    public static final int ALIGN = 16;

    private final long[] offset;
    /** Per value: whether it has bytes here (false where it lives elsewhere, see {@link #plan(Program, Predicate)}). */
    private final boolean[] placed;
    private final long floatElements;
    private final long intElements;
    private final long persistentFloats;

    private MemoryPlan(long[] offset, boolean[] placed, long floatElements, long intElements, long persistentFloats) {
        this.offset = offset;
        this.placed = placed;
        this.floatElements = floatElements;
        this.intElements = intElements;
        this.persistentFloats = persistentFloats;
    }

    /** Element offset of value {@code v} in the arena of its dtype (long: a GPU arena may exceed 2³¹ elements). */
    public long offset(Value v) {
        return offset[v.id()];
    }

    /** Whether v has bytes in this plan (every value but those a backend keeps elsewhere). */
    public boolean placed(Value v) {
        return placed[v.id()];
    }

    /** Elements v occupies here: its size, or 0 where it is not placed. */
    public long elements(Value v) {
        return placed[v.id()] ? v.shape().size() : 0;
    }

    /** Size of the float arena in elements. */
    public long floatElements() {
        return floatElements;
    }

    public long intElements() {
        return intElements;
    }

    /** Float elements of parameters, state and inputs (the part that is not reused). */
    public long persistentFloats() {
        return persistentFloats;
    }

    /** Float elements of the shared activation region: the planned peak of temporaries. */
    public long activationFloats() {
        return floatElements - persistentFloats;
    }

    static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Plans memory for {@code p}. */
    public static MemoryPlan plan(Program p) {
        return plan(p, v -> false);
    }

    /**
     * Plans memory for {@code p}, except the node outputs for which {@code elsewhere} holds (tested on
     * the buffer's root, the value a reshape views): a backend keeps those in another form (the CUDA
     * engine's bf16-only activations), so they get no bytes here and offset 0.
     */
    public static MemoryPlan plan(Program p, Predicate<Value> elsewhere) {
        int n = p.valueCount();
        int[] root = new int[n];          // the value whose buffer this value uses
        for (int i = 0; i < n; i++) root[i] = i;
        Value[] byId = new Value[n];
        for (Value v : p.inputs()) byId[v.id()] = v;
        for (Value v : p.params()) byId[v.id()] = v;
        for (Value v : p.state()) byId[v.id()] = v;
        for (Node node : p.nodes()) {
            for (Value o : node.outputs()) byId[o.id()] = o;
            if (node.op() instanceof Reshape) root[node.output().id()] = root[node.input(0).id()];
            int[] al = node.op().aliases();
            for (int k = 0; k < al.length; k++) {
                if (al[k] >= 0) root[node.outputs().get(k).id()] = root[node.input(al[k]).id()];
            }
        }
        // Lifetime of each root buffer in node indices: [def, lastUse].
        int[] def = new int[n], last = new int[n];
        Arrays.fill(def, -1);
        Arrays.fill(last, -1);
        for (Node node : p.nodes()) {
            for (Value o : node.outputs()) {
                int r = root[o.id()];
                if (def[r] < 0) def[r] = node.index();
                last[r] = Math.max(last[r], node.index());
            }
            for (Value in : node.inputs()) {
                int r = root[in.id()];
                last[r] = Math.max(last[r], node.index());
            }
        }
        int end = p.nodes().size();
        for (Value o : p.outputs().values()) last[root[o.id()]] = end;

        long[] offset = new long[n];
        long floatTop = 0, intTop = 0;
        // Persistent regions first: parameters, state, inputs.
        List<Value> leaves = new ArrayList<>(p.params());
        leaves.addAll(p.state());
        leaves.addAll(p.inputs());
        for (Value v : leaves) {
            if (v.dtype() == DType.I32) {
                offset[v.id()] = intTop;
                intTop += align(v.shape().size());
            } else {
                offset[v.id()] = floatTop;
                floatTop += align(v.shape().size());
            }
        }
        long persistent = floatTop;
        // Temporaries: roots produced by nodes, placed largest first at the lowest offset that does
        // not collide with an already placed buffer whose lifetime overlaps.
        List<Value> temps = new ArrayList<>();
        boolean[] has = new boolean[n];
        Arrays.fill(has, true);
        for (Node node : p.nodes()) {
            for (Value o : node.outputs()) {
                if (root[o.id()] != o.id()) continue;
                if (elsewhere.test(o)) has[o.id()] = false;
                else temps.add(o);
            }
        }
        temps.sort(Comparator.comparingLong((Value v) -> -v.shape().size()).thenComparingInt(Value::id));
        List<long[]> placedF = new ArrayList<>(), placedI = new ArrayList<>(); // {offset, size, def, last}
        long floatPeak = floatTop, intPeak = intTop;
        for (Value v : temps) {
            boolean isInt = v.dtype() == DType.I32;
            List<long[]> placed = isInt ? placedI : placedF;
            long base = isInt ? intTop : floatTop;
            long size = align(Math.max(1, v.shape().size()));
            int d = def[v.id()], l = last[v.id()];
            List<long[]> live = new ArrayList<>();
            for (long[] b : placed) if (b[2] <= l && d <= b[3]) live.add(b);
            live.sort(Comparator.comparingLong(b -> b[0]));
            long at = base;
            for (long[] b : live) {
                if (at + size <= b[0]) break;
                at = Math.max(at, b[0] + b[1]);
            }
            placed.add(new long[] {at, size, d, l});
            offset[v.id()] = at;
            if (isInt) intPeak = Math.max(intPeak, at + size);
            else floatPeak = Math.max(floatPeak, at + size);
        }
        for (int i = 0; i < n; i++) {
            if (root[i] != i) {
                offset[i] = offset[root[i]];
                has[i] = has[root[i]];
            }
        }
        return new MemoryPlan(offset, has, floatPeak, intPeak, persistent);
    }
}
