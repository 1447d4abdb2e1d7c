package dev.mixlab.ir;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders a program as readable text, one line per value or node. */
public final class Printer {
    private Printer() {}

    public static String print(Program p) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "program %s  (%d nodes, %,d parameters, %,d FLOPs)%n",
                p.name(), p.nodes().size(), p.parameterCount(), p.flops()));
        for (Value v : p.inputs()) sb.append("  input  ").append(v).append('\n');
        for (Value v : p.params()) {
            sb.append("  param  ").append(v).append("  ").append(init(v.init()));
            if (!v.tags().isEmpty()) sb.append("  ").append(v.tags().stream().sorted().collect(Collectors.joining(",", "[", "]")));
            sb.append('\n');
        }
        for (Value v : p.state()) sb.append("  state  ").append(v).append("  ").append(init(v.init())).append('\n');
        String scope = null;
        for (Node n : p.nodes()) {
            if (!n.scope().equals(scope)) {
                scope = n.scope();
                sb.append("  # ").append(scope.isEmpty() ? "(top)" : scope).append('\n');
            }
            sb.append("  ");
            sb.append(n.outputs().stream().map(Value::toString).collect(Collectors.joining(", ")));
            sb.append(" = ").append(n.op().name());
            String a = n.op().attrs();
            sb.append('(').append(n.inputs().stream().map(Value::ref).collect(Collectors.joining(", "))).append(')');
            if (!a.isBlank()) sb.append("  {").append(a.strip()).append('}');
            sb.append('\n');
        }
        for (Map.Entry<String, Value> e : p.outputs().entrySet()) {
            sb.append("  output ").append(e.getKey()).append(" = ").append(e.getValue().ref()).append('\n');
        }
        return sb.toString();
    }

    static String init(Init i) {
        return switch (i) {
            case null -> "";
            case Init.Normal n -> "normal(std=" + (float) n.std() + ")";
            case Init.Linspace l -> "linspace(" + l.from() + ", " + l.to() + ")";
            case Init.LogArange l -> "log_arange(" + l.n() + ")";
            case Init.Constant c -> c.value() == 0 ? "zeros" : c.value() == 1 ? "ones" : "const(" + c.value() + ")";
        };
    }
}
