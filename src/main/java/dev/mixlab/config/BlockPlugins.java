package dev.mixlab.config;

import dev.mixlab.arch.BlockProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** The plug-in block types on the class path ({@link BlockProvider} services), loaded once. */
final class BlockPlugins {
    private BlockPlugins() {}

    private static volatile Map<String, BlockProvider<?>> installed;

    /** @return plug-in providers by type name, in discovery order */
    static Map<String, BlockProvider<?>> installed() {
        Map<String, BlockProvider<?>> m = installed;
        if (m != null) return m;
        synchronized (BlockPlugins.class) {
            if (installed != null) return installed;
            Map<String, BlockProvider<?>> found = new LinkedHashMap<>();
            for (BlockProvider<?> p : ServiceLoader.load(BlockProvider.class, BlockPlugins.class.getClassLoader())) {
                String t = p.type();
                if (Schema.block(t) != null || found.containsKey(t)) {
                    throw new IllegalStateException("plug-in block " + p.getClass().getName() + " uses the type \"" + t
                            + "\", which " + (found.containsKey(t) ? found.get(t).getClass().getName() : "a built-in block")
                            + " already has");
                }
                for (BlockField f : p.fields()) {
                    if (List.of("type", "repeat", "mlp_mult").contains(f.name())) {
                        throw new IllegalStateException("plug-in block \"" + t + "\" declares the reserved field " + f.name());
                    }
                }
                found.put(t, p);
            }
            installed = Collections.unmodifiableMap(found);
            return installed;
        }
    }

    /** @return every block type a config may use: the built-in ones, then the plug-ins' */
    static List<String> allTypes() {
        List<String> all = new ArrayList<>(Schema.BLOCK_TYPES);
        all.addAll(installed().keySet());
        return all;
    }

    /** @return the schema section of a plug-in block: type, its fields, mlp_mult, repeat */
    static SectionDoc section(BlockProvider<?> p) {
        List<FieldDoc> fields = new ArrayList<>();
        fields.add(FieldDoc.required("type", "string", "`\"" + p.type() + "\"`"));
        for (BlockField f : p.fields()) fields.add(f.doc());
        fields.add(FieldDoc.derived("mlp_mult", "number; round(model_dim * mlp_mult) > 0", "top-level `mlp_mult`",
                "FFN hidden width multiplier."));
        fields.add(FieldDoc.optional("repeat", Schema.POS_INT, 1, "This spec stands for `repeat` identical consecutive layers."));
        return new SectionDoc("Plug-in block `" + p.type() + "`", p.getClass().getName(), fields);
    }
}
