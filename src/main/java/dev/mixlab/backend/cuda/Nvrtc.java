package dev.mixlab.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Runtime compilation of CUDA C to a cubin for the GPU found (NVRTC through FFM). */
final class Nvrtc {
    private static Nvrtc instance;
    private final MethodHandle version, create, compile, logSize, log, cubinSize, cubin, destroy, errorString;

    private Nvrtc() {
        SymbolLookup lib = Native.load("NVRTC (libnvrtc.so.13 or .12)", "install the CUDA toolkit's NVRTC (e.g. cuda-nvrtc-13-0)",
                "libnvrtc.so.13", "libnvrtc.so.12");
        version = Native.fn(lib, "nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        create = Native.fn(lib, "nvrtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compile = Native.fn(lib, "nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        logSize = Native.fn(lib, "nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        log = Native.fn(lib, "nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubinSize = Native.fn(lib, "nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubin = Native.fn(lib, "nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        destroy = Native.fn(lib, "nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        errorString = Native.fn(lib, "nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    static synchronized Nvrtc get() {
        if (instance == null) instance = new Nvrtc();
        return instance;
    }

    private void check(int rc, String what) {
        if (rc == 0) return;
        String msg = "error " + rc;
        try {
            MemorySegment s = (MemorySegment) errorString.invokeWithArguments(rc);
            if (!s.equals(MemorySegment.NULL)) msg = s.reinterpret(256).getString(0);
        } catch (Throwable ignored) {
            // keep the number
        }
        throw new CudaException(what + " failed: " + msg);
    }

    /** "13.0" etc. */
    String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ma = a.allocate(JAVA_INT), mi = a.allocate(JAVA_INT);
            check(Driver.call(version, ma, mi), "nvrtcVersion");
            return ma.get(JAVA_INT, 0) + "." + mi.get(JAVA_INT, 0);
        }
    }

    /** Compiles {@code source} for {@code sm_<arch>} and returns the cubin; a compile error carries NVRTC's log. */
    byte[] compile(String source, String name, int arch) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prog = a.allocate(ADDRESS);
            check(Driver.call(create, prog, a.allocateFrom(source), a.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL),
                    "nvrtcCreateProgram");
            MemorySegment p = prog.get(ADDRESS, 0);
            String[] opts = {"--gpu-architecture=sm_" + arch, "-std=c++17", "--fmad=true", "-default-device"};
            MemorySegment argv = a.allocate(ADDRESS, opts.length);
            for (int i = 0; i < opts.length; i++) argv.setAtIndex(ADDRESS, i, a.allocateFrom(opts[i]));
            int rc = Driver.call(compile, p, opts.length, argv);
            if (rc != 0) {
                MemorySegment n = a.allocate(JAVA_LONG);
                Driver.call(logSize, p, n);
                MemorySegment l = a.allocate(Math.max(1, n.get(JAVA_LONG, 0)));
                Driver.call(log, p, l);
                throw new CudaException("NVRTC could not compile " + name + ": " + l.getString(0).strip().replace('\n', ' '));
            }
            MemorySegment n = a.allocate(JAVA_LONG);
            check(Driver.call(cubinSize, p, n), "nvrtcGetCUBINSize");
            MemorySegment out = a.allocate(n.get(JAVA_LONG, 0));
            check(Driver.call(cubin, p, out), "nvrtcGetCUBIN");
            MemorySegment pp = a.allocate(ADDRESS);
            pp.set(ADDRESS, 0, p);
            Driver.call(destroy, pp);
            return out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }
}
