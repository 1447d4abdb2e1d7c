package dev.mixlab.ir;

import java.util.List;

/** One operation applied to values, producing one or more values. */
public final class Node {
    private final int index;
    private final Op op;
    private final List<Value> inputs;
    private final List<Value> outputs;
    private final String scope;

    Node(int index, Op op, List<Value> inputs, List<Value> outputs, String scope) {
        this.index = index;
        this.op = op;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.scope = scope;
    }

    /** Position in the program's node list (a valid topological order). */
    public int index() {
        return index;
    }

    public Op op() {
        return op;
    }

    public List<Value> inputs() {
        return inputs;
    }

    public Value input(int i) {
        return inputs.get(i);
    }

    public List<Value> outputs() {
        return outputs;
    }

    public Value output() {
        return outputs.get(0);
    }

    /** Where in the model this node was emitted, e.g. {@code blocks.3.attn}; for messages and printing. */
    public String scope() {
        return scope;
    }

    public List<TensorType> inputTypes() {
        return inputs.stream().map(Value::type).toList();
    }

    public long flops() {
        return op.flops(inputTypes());
    }
}
