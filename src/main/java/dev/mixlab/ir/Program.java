package dev.mixlab.ir;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable, verified IR program: named inputs, parameters and optimizer state, nodes in a
 * topological order, and named outputs. Built with {@link ProgramBuilder}.
 */
public final class Program {
    private final String name;
    private final List<Value> inputs;
    private final List<Value> params;
    private final List<Value> state;
    private final List<Node> nodes;
    private final Map<String, Value> outputs;
    private final int valueCount;

    Program(String name, List<Value> inputs, List<Value> params, List<Value> state, List<Node> nodes,
            Map<String, Value> outputs, int valueCount) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.params = List.copyOf(params);
        this.state = List.copyOf(state);
        this.nodes = List.copyOf(nodes);
        this.outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
        this.valueCount = valueCount;
    }

    public String name() {
        return name;
    }

    /** Values the caller feeds each run (token ids, targets, learning rate, step, seed). */
    public List<Value> inputs() {
        return inputs;
    }

    /** Trainable parameters, in creation order. */
    public List<Value> params() {
        return params;
    }

    /** Persistent non-trainable tensors (optimizer moments). */
    public List<Value> state() {
        return state;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Value> outputs() {
        return outputs;
    }

    /** Ids of values are in {@code [0, valueCount())}. */
    public int valueCount() {
        return valueCount;
    }

    public Value input(String name) {
        return find(inputs, name);
    }

    public Value param(String name) {
        return find(params, name);
    }

    public Value output(String name) {
        Value v = outputs.get(name);
        if (v == null) throw new IrException("program " + this.name + " has no output '" + name + "'");
        return v;
    }

    private Value find(List<Value> vs, String n) {
        for (Value v : vs) if (v.name().equals(n)) return v;
        throw new IrException("program " + name + " has no value '" + n + "'");
    }

    /** Total number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (Value p : params) n += p.shape().size();
        return n;
    }

    /** Sum of the FLOPs of all nodes. */
    public long flops() {
        long n = 0;
        for (Node node : nodes) n += node.flops();
        return n;
    }
}
