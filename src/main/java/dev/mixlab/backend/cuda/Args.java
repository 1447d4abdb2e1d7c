package dev.mixlab.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Builds the {@code void**} argument array of a kernel launch; the values live in the given arena. */
final class Args {
    private final Arena arena;
    private final List<MemorySegment> values = new ArrayList<>();

    Args(Arena arena) {
        this.arena = arena;
    }

    /** A device pointer or a 64-bit count. */
    Args u64(long v) {
        values.add(arena.allocateFrom(JAVA_LONG, v));
        return this;
    }

    Args ptr(long v) {
        return u64(v);
    }

    Args i32(int v) {
        values.add(arena.allocateFrom(JAVA_INT, v));
        return this;
    }

    Args f32(float v) {
        values.add(arena.allocateFrom(JAVA_FLOAT, v));
        return this;
    }

    /** A struct of floats passed by value (e.g. {@code ScanGammas}: a fixed-size float array). */
    Args floats(float[] v) {
        values.add(arena.allocateFrom(JAVA_FLOAT, v));
        return this;
    }

    /** The attention kernels' common arguments, in their order: scale, dropout, salt, seed, window, softcap, alibi. */
    Args mask(MaskArgs m, long seed) {
        return f32((float) m.scale()).f32((float) m.dropout()).i32(m.salt()).ptr(seed).i32(m.window()).f32((float) m.softcap())
                .i32(m.alibi() ? 1 : 0);
    }

    MemorySegment build() {
        MemorySegment a = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) a.setAtIndex(ADDRESS, i, values.get(i));
        return a;
    }
}
