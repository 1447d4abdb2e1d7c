package dev.mixlab.backend.reference;

import dev.mixlab.backend.Backend;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.DType;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The float64 reference interpreter as a backend: slow, exact, for tests and goldens. */
public final class ReferenceBackend implements Backend {
    public String name() {
        return "reference";
    }

    public String describe() {
        return "float64 reference interpreter (plain loops, single thread)";
    }

    public Executable compile(Program p) {
        return new Exec(p);
    }

    private static final class Exec implements Executable {
        private final Program p;
        private final Map<String, Tensor> leaves = new HashMap<>();
        private Map<String, Tensor> outputs = Map.of();

        Exec(Program p) {
            this.p = p;
            for (List<Value> g : List.of(p.inputs(), p.params(), p.state())) {
                for (Value v : g) {
                    leaves.put(v.name(), v.dtype() == DType.I32
                            ? Tensor.ofInts(v.shape(), new int[v.shape().intSize()])
                            : Tensor.of(v.shape(), new double[v.shape().intSize()]));
                }
            }
        }

        public Program program() {
            return p;
        }

        private Tensor leaf(String name) {
            Tensor t = leaves.get(name);
            if (t == null) throw new IllegalArgumentException("program " + p.name() + " has no input, parameter or state '" + name + "'");
            return t;
        }

        public void setFloats(String name, float[] data) {
            double[] d = leaf(name).f();
            if (d.length != data.length) throw new IllegalArgumentException(name + ": expected " + d.length + " values, got " + data.length);
            for (int i = 0; i < d.length; i++) d[i] = data[i];
        }

        @Override
        public void setDoubles(String name, double[] data) {
            System.arraycopy(data, 0, leaf(name).f(), 0, data.length);
        }

        public void setInts(String name, int[] data) {
            int[] d = leaf(name).i();
            if (d.length != data.length) throw new IllegalArgumentException(name + ": expected " + d.length + " values, got " + data.length);
            System.arraycopy(data, 0, d, 0, d.length);
        }

        public float[] getFloats(String name) {
            Tensor t = outputs.containsKey(name) ? outputs.get(name) : leaf(name);
            float[] f = new float[t.f().length];
            for (int i = 0; i < f.length; i++) f[i] = (float) t.f()[i];
            return f;
        }

        @Override
        public double[] getDoubles(String name) {
            Tensor t = outputs.containsKey(name) ? outputs.get(name) : leaf(name);
            return t.f().clone();
        }

        public void run() {
            outputs = ReferenceInterpreter.run(p, leaves);
        }
    }
}
