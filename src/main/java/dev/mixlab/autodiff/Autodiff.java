package dev.mixlab.autodiff;

import dev.mixlab.ir.IrException;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.ProgramBuilder;
import dev.mixlab.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation as a graph-to-graph transform: it walks the nodes emitted so far
 * backwards and emits, into the same builder, the nodes that compute the gradients. Each op's
 * vector-Jacobian product is in {@link Vjp}; contributions to a value used several times are summed.
 */
public final class Autodiff {
    private Autodiff() {}

    /** Gradients of the scalar {@code loss} with respect to each of {@code wrt}, emitted into {@code b}. */
    public static Map<Value, Value> gradients(ProgramBuilder b, Value loss, List<Value> wrt) {
        if (loss.shape().size() != 1) throw new IrException("loss must be a scalar, got " + loss.type());
        return vjp(b, List.of(loss), null, wrt);
    }

    /**
     * Vector-Jacobian product: given cotangents for {@code outputs} (null means a scalar seed of
     * 1 for a single scalar output), returns the gradient of {@code Σ <cotangent, output>} with
     * respect to each value in {@code wrt}. Every value in {@code wrt} must influence the outputs.
     */
    public static Map<Value, Value> vjp(ProgramBuilder b, List<Value> outputs, List<Value> cotangents, List<Value> wrt) {
        List<Node> nodes = b.nodes();
        // Values that depend on some wrt value (forward reachability).
        Set<Integer> fromWrt = new HashSet<>();
        for (Value v : wrt) fromWrt.add(v.id());
        for (Node n : nodes) {
            if (!n.op().differentiable()) continue;
            for (Value in : n.inputs()) {
                if (fromWrt.contains(in.id())) {
                    for (Value o : n.outputs()) fromWrt.add(o.id());
                    break;
                }
            }
        }
        Map<Integer, Value> adjoint = new HashMap<>();
        for (int i = 0; i < outputs.size(); i++) {
            Value out = outputs.get(i);
            Value ct = cotangents == null ? null : cotangents.get(i);
            if (ct == null) {
                if (outputs.size() != 1 || out.shape().size() != 1) {
                    throw new IrException("a cotangent is needed for non-scalar output " + out);
                }
                ct = Seeds.one(b, out);
            } else if (!ct.type().equals(out.type())) {
                throw new IrException("cotangent " + ct.type() + " does not match output " + out.type());
            }
            adjoint.merge(out.id(), ct, b::add);
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Value dy = n.outputs().size() == 1 ? adjoint.get(n.output().id()) : null;
            if (dy == null) continue;
            boolean any = false;
            for (Value in : n.inputs()) any |= fromWrt.contains(in.id());
            if (!any) continue;
            if (!n.op().differentiable()) throw new IrException("cannot differentiate through " + n.op().name());
            List<Value> grads;
            try (var s = b.scope(n.scope().isEmpty() ? "grad" : "grad." + n.scope())) {
                grads = Vjp.rule(b, n, dy, k -> fromWrt.contains(n.input(k).id()));
            }
            for (int k = 0; k < grads.size(); k++) {
                Value g = grads.get(k);
                if (g == null || !fromWrt.contains(n.input(k).id())) continue;
                adjoint.merge(n.input(k).id(), g, b::add);
            }
        }
        Map<Value, Value> result = new LinkedHashMap<>();
        List<String> unused = new ArrayList<>();
        for (Value v : wrt) {
            Value g = adjoint.get(v.id());
            if (g == null) unused.add(v.ref());
            else result.put(v, g);
        }
        if (!unused.isEmpty()) throw new IrException("these values do not affect the output: " + unused);
        return result;
    }
}
