package dev.mixlab.backend.reference;

import dev.mixlab.ir.*;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Executes a program in float64 with plain loops: the semantic definition of every op, used for
 * finite-difference gradient checks and as the oracle the fast kernels are tested against.
 * Slow on purpose; clarity over speed.
 */
public final class ReferenceInterpreter {
    private ReferenceInterpreter() {}

    /** A value at run time: doubles for float tensors, ints for i32 tensors. */
    public record Tensor(Shape shape, double[] f, int[] i) {
        public static Tensor of(Shape s, double[] f) {
            return new Tensor(s, f, null);
        }

        public static Tensor ofInts(Shape s, int[] i) {
            return new Tensor(s, null, i);
        }

        public double scalar() {
            return f[0];
        }
    }

    /**
     * Runs {@code p}. {@code leaves} maps input, parameter and state names to tensors; in-place
     * updates (optimizer ops) write into those tensors' arrays. Returns the named outputs.
     */
    public static Map<String, Tensor> run(Program p, Map<String, Tensor> leaves) {
        Tensor[] env = new Tensor[p.valueCount()];
        for (List<Value> group : List.of(p.inputs(), p.params(), p.state())) {
            for (Value v : group) {
                Tensor t = leaves.get(v.name());
                if (t == null) throw new IllegalArgumentException("no value fed for " + v.ref());
                long n = t.f != null ? t.f.length : t.i.length;
                if (n != v.shape().size()) throw new IllegalArgumentException(v.ref() + " expects " + v.shape() + ", got " + n + " elements");
                env[v.id()] = t;
            }
        }
        for (Node n : p.nodes()) {
            Tensor[] in = new Tensor[n.inputs().size()];
            for (int k = 0; k < in.length; k++) in[k] = env[n.input(k).id()];
            Tensor[] out = RefKernels.apply(n, in);
            for (int k = 0; k < out.length; k++) env[n.outputs().get(k).id()] = out[k];
        }
        Map<String, Tensor> result = new HashMap<>();
        p.outputs().forEach((name, v) -> result.put(name, env[v.id()]));
        return result;
    }
}
