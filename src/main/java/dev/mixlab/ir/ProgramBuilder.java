package dev.mixlab.ir;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a program as if computing eagerly: each call checks shapes at once (naming the op, the
 * scope and the shapes on a mismatch) and returns the symbolic result.
 */
public final class ProgramBuilder {
    private final String name;
    private final List<Value> values = new ArrayList<>();
    private final List<Value> inputs = new ArrayList<>();
    private final List<Value> params = new ArrayList<>();
    private final List<Value> state = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Value> outputs = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private final Deque<String> scopes = new ArrayDeque<>();

    public ProgramBuilder(String name) {
        this.name = name;
    }

    // ---- leaves ----

    public Value input(String n, TensorType type) {
        return leaf(Value.Kind.INPUT, n, type, null, Set.of(), inputs);
    }

    /** A trainable parameter; tags (e.g. {@code matrix}, {@code embedding}, {@code norm}) select optimizer groups. */
    public Value param(String n, Shape shape, Init init, String... tags) {
        if (shareParams) {
            for (Value p : params) {
                if (p.name().equals(n)) {
                    if (!p.shape().equals(shape)) throw new IrException("parameter '" + n + "' reused with shape " + shape + ", was " + p.shape());
                    return p;
                }
            }
        }
        return leaf(Value.Kind.PARAM, n, TensorType.f32(shape), init, Set.of(tags), params);
    }

    private boolean shareParams;

    /**
     * While on, {@link #param} returns the existing parameter of that name instead of failing as a
     * duplicate: emitting the model again (one forward pass per micro-batch) reuses its weights.
     */
    public void shareParams(boolean on) {
        shareParams = on;
    }

    /** Persistent non-trainable state, e.g. optimizer moments. */
    public Value state(String n, Shape shape, Init init) {
        return leaf(Value.Kind.STATE, n, TensorType.f32(shape), init, Set.of(), state);
    }

    private Value leaf(Value.Kind kind, String n, TensorType type, Init init, Set<String> tags, List<Value> into) {
        if (!names.add(n)) throw new IrException("duplicate name '" + n + "' in program " + name);
        Value v = new Value(values.size(), kind, type, n, init, tags);
        values.add(v);
        into.add(v);
        return v;
    }

    public List<Value> params() {
        return List.copyOf(params);
    }

    /** The nodes emitted so far, in order. */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    // ---- scopes ----

    /** Names the model part emitting the next nodes, for messages; close it with try-with-resources. */
    public Scope scope(String part) {
        scopes.push(scopes.isEmpty() ? part : scopes.peek() + "." + part);
        return scopes::pop;
    }

    /** A scope that closes without checked exceptions. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    // ---- nodes ----

    /** Applies {@code op}, returning all its outputs. */
    public List<Value> apply(Op op, Value... in) {
        List<TensorType> types = Arrays.stream(in).map(Value::type).toList();
        List<TensorType> outTypes;
        try {
            outTypes = op.infer(types);
        } catch (IrException e) {
            String where = scopes.isEmpty() ? "" : " in " + scopes.peek();
            throw new IrException(e.getMessage() + where);
        }
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < outTypes.size(); i++) {
            Value v = new Value(values.size(), Value.Kind.NODE, outTypes.get(i), null, null, Set.of());
            values.add(v);
            outs.add(v);
        }
        Node node = new Node(nodes.size(), op, List.of(in), outs, scopes.isEmpty() ? "" : scopes.peek());
        for (int i = 0; i < outs.size(); i++) {
            outs.get(i).producer = node;
            outs.get(i).outputIndex = i;
        }
        nodes.add(node);
        return outs;
    }

    /** Applies a single-output op. */
    public Value apply1(Op op, Value... in) {
        List<Value> o = apply(op, in);
        if (o.size() != 1) throw new IrException(op.name() + " has " + o.size() + " outputs");
        return o.get(0);
    }

    public void output(String n, Value v) {
        if (outputs.putIfAbsent(n, v) != null) throw new IrException("duplicate output '" + n + "'");
    }

    // ---- eager-looking helpers used by blocks ----

    /** {@code x · Wᵀ} for W stored {@code [out,in]}. */
    public Value linear(Value x, Value w) {
        return apply1(new MatMul(false, true), x, w);
    }

    public Value matmul(Value a, Value b, boolean transA, boolean transB) {
        return apply1(new MatMul(transA, transB), a, b);
    }

    public Value add(Value a, Value b) {
        return apply1(new Add(), a, b);
    }

    public Value mul(Value a, Value b) {
        return apply1(new Mul(), a, b);
    }

    public Value scale(Value x, double factor) {
        return apply1(new Scale(factor), x);
    }

    public Value unary(UnaryFn fn, Value x) {
        return apply1(new Unary(fn), x);
    }

    public Value reshape(Value x, int... dims) {
        Shape s = Shape.of(dims);
        return x.shape().equals(s) ? x : apply1(new Reshape(s), x);
    }

    public Value reshape(Value x, Shape s) {
        return x.shape().equals(s) ? x : apply1(new Reshape(s), x);
    }

    public Value embedding(Value table, Value ids) {
        return apply1(new Embedding(), table, ids);
    }

    public Value crossEntropy(Value logits, Value targets) {
        return apply1(new CrossEntropy(), logits, targets);
    }

    /** The program, verified. */
    public Program build() {
        Program p = new Program(name, inputs, params, state, nodes, outputs, values.size());
        Verifier.verify(p);
        return p;
    }
}
