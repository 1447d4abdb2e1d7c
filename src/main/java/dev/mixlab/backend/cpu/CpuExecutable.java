package dev.mixlab.backend.cpu;

import dev.mixlab.backend.Executable;
import dev.mixlab.ir.DType;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import dev.mixlab.passes.MemoryPlan;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A program laid out in one float arena and one int arena by the {@link MemoryPlan}; a run walks
 * the nodes in order and calls each op's kernel with precomputed offsets, so a step allocates
 * nothing.
 */
final class CpuExecutable implements Executable {
    private final Program p;
    private final MemoryPlan plan;
    private final float[] f;
    private final int[] ints;
    private final Node[] nodes;
    private final int[][] inOff, outOff;
    private final Map<String, Value> byName = new HashMap<>();

    CpuExecutable(Program p) {
        this.p = p;
        this.plan = MemoryPlan.plan(p);
        if (plan.floatElements() > Integer.MAX_VALUE - 64) {
            throw new dev.mixlab.ir.IrException("program " + p.name() + " needs " + plan.floatElements() * 4 / (1 << 20)
                    + " MiB of float memory, more than one Java array holds; use a smaller batch_tokens, more grad_accum_steps,"
                    + " or --device cuda");
        }
        this.f = new float[(int) plan.floatElements()];
        this.ints = new int[Math.toIntExact(Math.max(1, plan.intElements()))];
        this.nodes = p.nodes().toArray(Node[]::new);
        this.inOff = new int[nodes.length][];
        this.outOff = new int[nodes.length][];
        for (int i = 0; i < nodes.length; i++) {
            inOff[i] = nodes[i].inputs().stream().mapToInt(v -> (int) plan.offset(v)).toArray();
            outOff[i] = nodes[i].outputs().stream().mapToInt(v -> (int) plan.offset(v)).toArray();
        }
        for (List<Value> g : List.of(p.inputs(), p.params(), p.state())) for (Value v : g) byName.put(v.name(), v);
        p.outputs().forEach(byName::putIfAbsent);
    }

    public Program program() {
        return p;
    }

    /** The memory plan this executable uses. */
    MemoryPlan plan() {
        return plan;
    }

    private Value value(String name, DType want) {
        Value v = byName.get(name);
        if (v == null) throw new IllegalArgumentException("program " + p.name() + " has no value '" + name + "'");
        if ((v.dtype() == DType.I32) != (want == DType.I32)) throw new IllegalArgumentException(name + " is " + v.dtype());
        return v;
    }

    public void setFloats(String name, float[] data) {
        Value v = value(name, DType.F32);
        if (data.length != v.shape().size()) throw new IllegalArgumentException(name + ": expected " + v.shape().size() + " values, got " + data.length);
        System.arraycopy(data, 0, f, (int) plan.offset(v), data.length);
    }

    public void setInts(String name, int[] data) {
        Value v = value(name, DType.I32);
        if (data.length != v.shape().size()) throw new IllegalArgumentException(name + ": expected " + v.shape().size() + " values, got " + data.length);
        System.arraycopy(data, 0, ints, (int) plan.offset(v), data.length);
    }

    public float[] getFloats(String name) {
        Value v = value(name, DType.F32);
        float[] out = new float[v.shape().intSize()];
        System.arraycopy(f, (int) plan.offset(v), out, 0, out.length);
        return out;
    }

    @Override
    public float scalar(String output) {
        return f[(int) plan.offset(value(output, DType.F32))];
    }

    private long[] opNanos;

    @Override
    public void setProfiling(boolean on) {
        opNanos = on ? new long[nodes.length] : null;
    }

    @Override
    public Map<String, long[]> profile() {
        Map<String, long[]> m = new java.util.TreeMap<>();
        if (opNanos == null) return m;
        for (int i = 0; i < nodes.length; i++) {
            long[] acc = m.computeIfAbsent(nodes[i].op().name(), k -> new long[2]);
            acc[0] += opNanos[i];
            acc[1]++;
        }
        return m;
    }

    public void run() {
        long[] prof = opNanos;
        if (prof == null) {
            for (int i = 0; i < nodes.length; i++) CpuKernels.run(nodes[i], f, ints, inOff[i], outOff[i]);
            return;
        }
        for (int i = 0; i < nodes.length; i++) {
            long t0 = System.nanoTime();
            CpuKernels.run(nodes[i], f, ints, inOff[i], outOff[i]);
            prof[i] += System.nanoTime() - t0;
        }
    }
}
