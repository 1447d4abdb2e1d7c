package dev.mixlab.ir;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a program's invariants: every input of a node is defined before it, the recorded output
 * types agree with the op's shape rule, and an in-place update's overwritten input is never read
 * afterwards. Messages name the node, its op, scope and shapes.
 */
public final class Verifier {
    private Verifier() {}

    public static void verify(Program p) {
        boolean[] defined = new boolean[p.valueCount()];
        for (Value v : p.inputs()) defined[v.id()] = true;
        for (Value v : p.params()) defined[v.id()] = true;
        for (Value v : p.state()) defined[v.id()] = true;
        Map<Integer, Node> overwrittenBy = new HashMap<>();
        for (Node n : p.nodes()) {
            String where = "node " + n.index() + " (" + n.op().name() + (n.scope().isEmpty() ? "" : " in " + n.scope()) + ")";
            for (Value in : n.inputs()) {
                if (!defined[in.id()]) throw new IrException(where + ": input " + in.ref() + " used before it is defined");
                Node over = overwrittenBy.get(in.id());
                if (over != null) {
                    throw new IrException(where + ": reads " + in.ref() + " after node " + over.index() + " overwrote it");
                }
            }
            List<TensorType> expect;
            try {
                expect = n.op().infer(n.inputTypes());
            } catch (IrException e) {
                throw new IrException(where + ": " + e.getMessage());
            }
            List<TensorType> got = n.outputs().stream().map(Value::type).toList();
            if (!expect.equals(got)) throw new IrException(where + ": outputs " + got + " but the shape rule gives " + expect);
            int[] alias = n.op().aliases();
            for (int i = 0; i < alias.length; i++) {
                if (alias[i] < 0) continue;
                Value target = n.input(alias[i]);
                if (target.kind() != Value.Kind.PARAM && target.kind() != Value.Kind.STATE) {
                    throw new IrException(where + ": in-place update of " + target.ref() + ", which is not a parameter or state");
                }
                if (overwrittenBy.putIfAbsent(target.id(), n) != null) {
                    throw new IrException(where + ": " + target.ref() + " is updated twice");
                }
            }
            for (Value out : n.outputs()) defined[out.id()] = true;
        }
        for (Map.Entry<String, Value> e : p.outputs().entrySet()) {
            if (!defined[e.getValue().id()]) throw new IrException("output " + e.getKey() + " is not defined");
        }
    }
}
