package dev.mixlab.ir;

/** Element types of IR values. {@code F32} is "float": fp32 on the CPU, fp64 in the reference interpreter. */
public enum DType {
    F32(4), BF16(2), I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloat() {
        return this != I32;
    }
}
