package dev.mixlab.io;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An open, validated safetensors file whose tensor data is memory-mapped. Tensors returned by
 * {@link #tensor} read the mapping, so use them (or copy them with {@code floats()} etc.) before
 * {@link #close()}; after it, reading their data throws {@link IllegalStateException}.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final String path;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    SafetensorsFile(String path, Arena arena, Map<String, Tensor> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Tensor names, sorted. */
    public List<String> names() {
        List<String> n = new ArrayList<>(tensors.keySet());
        Collections.sort(n);
        return n;
    }

    /** True if the file has a tensor called {@code name}. */
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor called {@code name}.
     *
     * @throws SafetensorsException if there is none
     */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            List<String> n = names();
            throw new SafetensorsException(path, "no tensor '" + name + "' (the file has "
                    + n.size() + ": " + String.join(", ", n.subList(0, Math.min(10, n.size())))
                    + (n.size() > 10 ? ", ..." : "") + ")");
        }
        return t;
    }

    /** The {@code __metadata__} string map (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file path. */
    public String path() {
        return path;
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        arena.close();
    }
}
