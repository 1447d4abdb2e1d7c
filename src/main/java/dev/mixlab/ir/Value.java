package dev.mixlab.ir;

import java.util.Set;

/**
 * A value of a program: a program input, a parameter, optimizer state, or the output of a node.
 * Values are identified by their id, unique within a program.
 */
public final class Value {
    /** Where a value comes from. */
    public enum Kind { INPUT, PARAM, STATE, NODE }

    private final int id;
    private final Kind kind;
    private final TensorType type;
    private final String name;
    private final Init init;
    private final Set<String> tags;
    Node producer;
    int outputIndex;

    Value(int id, Kind kind, TensorType type, String name, Init init, Set<String> tags) {
        this.id = id;
        this.kind = kind;
        this.type = type;
        this.name = name;
        this.init = init;
        this.tags = Set.copyOf(tags);
    }

    public int id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public TensorType type() {
        return type;
    }

    public Shape shape() {
        return type.shape();
    }

    public DType dtype() {
        return type.dtype();
    }

    /** Name of an input, parameter or state tensor; null for most node outputs. */
    public String name() {
        return name;
    }

    /** Initialiser of a parameter or state tensor, else null. */
    public Init init() {
        return init;
    }

    /** Free-form labels, e.g. {@code matrix}, {@code embedding}, {@code decay} for optimizer groups. */
    public Set<String> tags() {
        return tags;
    }

    /** The node that computes this value, or null for inputs, parameters and state. */
    public Node producer() {
        return producer;
    }

    public int outputIndex() {
        return outputIndex;
    }

    /** Short reference used by the printer: {@code %12} or {@code @tok_emb.weight}. */
    public String ref() {
        return name != null && kind != Kind.NODE ? "@" + name : "%" + id;
    }

    @Override
    public String toString() {
        return ref() + ":" + type;
    }
}
