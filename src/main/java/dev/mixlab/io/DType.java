package dev.mixlab.io;

/** The element types mixlab reads and writes in safetensors files, with their byte sizes. */
public enum DType {
    F32(4), F64(8), BF16(2), F16(2), I32(4), I64(8), U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype spelled {@code name} as in a safetensors header, or null if unsupported. */
    public static DType parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
