package dev.mixlab.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API through FFM ({@code libcuda.so.1}): context, memory, modules, launches,
 * streams and graphs. Loaded on first use, so the CPU path never touches it. Every call's result is
 * checked; a failure throws {@link CudaException} naming the call and the driver's error string.
 */
final class Driver {
    private static Driver instance;

    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute,
            cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH,
            cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD8Async, cuModuleLoadData, cuModuleGetFunction, cuLaunchKernel,
            cuStreamCreate, cuStreamSynchronize, cuDeviceGetCount, cuEventCreate, cuEventRecord, cuEventSynchronize,
            cuEventElapsedTime, cuStreamBeginCapture, cuStreamEndCapture, cuGraphInstantiate,
            cuGraphLaunch, cuGetErrorString, cuMemAllocHost, cuMemGetInfo, cuFuncSetAttribute, cuDeviceTotalMem;

    private Driver() {
        SymbolLookup lib = Native.load("the NVIDIA driver (libcuda.so.1)",
                "install the NVIDIA driver for this GPU", "libcuda.so.1", "libcuda.so");
        FunctionDescriptor i_i = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        FunctionDescriptor i_p = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        cuInit = Native.fn(lib, "cuInit", i_i);
        cuDriverGetVersion = Native.fn(lib, "cuDriverGetVersion", i_p);
        cuDeviceGet = Native.fn(lib, "cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetCount = Native.fn(lib, "cuDeviceGetCount", i_p);
        cuEventCreate = Native.fn(lib, "cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = Native.fn(lib, "cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuEventSynchronize = Native.fn(lib, "cuEventSynchronize", i_p);
        cuEventElapsedTime = Native.fn(lib, "cuEventElapsedTime", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuDeviceGetName = Native.fn(lib, "cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = Native.fn(lib, "cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = Native.fn(lib, "cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRetain = Native.fn(lib, "cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuCtxSetCurrent = Native.fn(lib, "cuCtxSetCurrent", i_p);
        cuMemAlloc = Native.fn(lib, "cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = Native.fn(lib, "cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemcpyHtoD = Native.fn(lib, "cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        cuMemcpyDtoH = Native.fn(lib, "cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        cuMemcpyHtoDAsync = Native.fn(lib, "cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = Native.fn(lib, "cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = Native.fn(lib, "cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8Async = Native.fn(lib, "cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuModuleLoadData = Native.fn(lib, "cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = Native.fn(lib, "cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuLaunchKernel = Native.fn(lib, "cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuStreamCreate = Native.fn(lib, "cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamSynchronize = Native.fn(lib, "cuStreamSynchronize", i_p);
        cuStreamBeginCapture = Native.fn(lib, "cuStreamBeginCapture_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamEndCapture = Native.fn(lib, "cuStreamEndCapture", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuGraphInstantiate = Native.fn(lib, "cuGraphInstantiateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        cuGraphLaunch = Native.fn(lib, "cuGraphLaunch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuGetErrorString = Native.fn(lib, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuMemAllocHost = Native.fn(lib, "cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemGetInfo = Native.fn(lib, "cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuFuncSetAttribute = Native.fn(lib, "cuFuncSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        check(call(cuInit, 0), "cuInit");
    }

    static synchronized Driver get() {
        if (instance == null) instance = new Driver();
        return instance;
    }

    static int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    void check(int rc, String what) {
        if (rc == 0) return;
        String msg = "error " + rc;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (call(cuGetErrorString, rc, p) == 0) {
                MemorySegment s = p.get(ADDRESS, 0);
                if (!s.equals(MemorySegment.NULL)) msg = s.reinterpret(256).getString(0);
            }
        }
        throw new CudaException(what + " failed: " + msg + " (" + rc + ")");
    }

    /** Calls h with a fresh int out-parameter first and then args, checks the status, returns the int. */
    private int outInt(MethodHandle h, String what, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(call(h, withFirst(p, args)), what);
            return p.get(JAVA_INT, 0);
        }
    }

    /** As {@link #outInt} with a 64-bit out-parameter (sizes, device pointers). */
    private long outLong(MethodHandle h, String what, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check(call(h, withFirst(p, args)), what);
            return p.get(JAVA_LONG, 0);
        }
    }

    /** As {@link #outInt} with a pointer out-parameter (handles). */
    private MemorySegment outAddress(MethodHandle h, String what, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(call(h, withFirst(p, args)), what);
            return p.get(ADDRESS, 0);
        }
    }

    private static Object[] withFirst(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    int version() {
        return outInt(cuDriverGetVersion, "cuDriverGetVersion");
    }

    int deviceCount() {
        return outInt(cuDeviceGetCount, "cuDeviceGetCount");
    }

    int device(int ordinal) {
        return outInt(cuDeviceGet, "cuDeviceGet", ordinal);
    }

    String name(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(256);
            check(call(cuDeviceGetName, p, 256, dev), "cuDeviceGetName");
            return p.getString(0);
        }
    }

    int attribute(int dev, int attr) {
        return outInt(cuDeviceGetAttribute, "cuDeviceGetAttribute", attr, dev);
    }

    long totalMem(int dev) {
        return outLong(cuDeviceTotalMem, "cuDeviceTotalMem", dev);
    }

    /** Makes the device's primary context current on this thread. */
    MemorySegment context(int dev) {
        MemorySegment ctx = outAddress(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", dev);
        setCurrent(ctx);
        return ctx;
    }

    void setCurrent(MemorySegment ctx) {
        check(call(cuCtxSetCurrent, ctx), "cuCtxSetCurrent");
    }

    long malloc(long bytes) {
        return outLong(cuMemAlloc, "cuMemAlloc(" + bytes + " bytes)", Math.max(bytes, 256));
    }

    void free(long ptr) {
        check(call(cuMemFree, ptr), "cuMemFree");
    }

    /** Page-locked host memory for asynchronous copies; lives until the process ends. */
    MemorySegment hostAlloc(long bytes) {
        return outAddress(cuMemAllocHost, "cuMemAllocHost", Math.max(bytes, 64)).reinterpret(Math.max(bytes, 64));
    }

    long[] memInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check(call(cuMemGetInfo, f, t), "cuMemGetInfo");
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    void htod(long dst, MemorySegment src, long bytes) {
        check(call(cuMemcpyHtoD, dst, src, bytes), "cuMemcpyHtoD");
    }

    void dtoh(MemorySegment dst, long src, long bytes) {
        check(call(cuMemcpyDtoH, dst, src, bytes), "cuMemcpyDtoH");
    }

    void htodAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(call(cuMemcpyHtoDAsync, dst, src, bytes, stream), "cuMemcpyHtoDAsync");
    }

    void dtohAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(call(cuMemcpyDtoHAsync, dst, src, bytes, stream), "cuMemcpyDtoHAsync");
    }

    void dtodAsync(long dst, long src, long bytes, MemorySegment stream) {
        check(call(cuMemcpyDtoDAsync, dst, src, bytes, stream), "cuMemcpyDtoDAsync");
    }

    void memsetAsync(long dst, long bytes, MemorySegment stream) {
        check(call(cuMemsetD8Async, dst, 0, bytes, stream), "cuMemsetD8Async");
    }

    MemorySegment loadModule(MemorySegment image) {
        return outAddress(cuModuleLoadData, "cuModuleLoadData", image);
    }

    MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(call(cuModuleGetFunction, p, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return p.get(ADDRESS, 0);
        }
    }

    void setMaxDynamicShared(MemorySegment fn, int bytes) {
        check(call(cuFuncSetAttribute, fn, 8, bytes), "cuFuncSetAttribute");
    }

    void launch(MemorySegment fn, int gx, int gy, int gz, int bx, int shared, MemorySegment stream, MemorySegment params) {
        check(call(cuLaunchKernel, fn, gx, gy, gz, bx, 1, 1, shared, stream, params, MemorySegment.NULL), "cuLaunchKernel");
    }

    MemorySegment stream() {
        return outAddress(cuStreamCreate, "cuStreamCreate", 1);   // CU_STREAM_NON_BLOCKING
    }

    MemorySegment event() {
        return outAddress(cuEventCreate, "cuEventCreate", 0);
    }

    void record(MemorySegment event, MemorySegment stream) {
        check(call(cuEventRecord, event, stream), "cuEventRecord");
    }

    /** Waits until the work recorded before the event is done (returns at once for an unrecorded event). */
    void eventSync(MemorySegment event) {
        check(call(cuEventSynchronize, event), "cuEventSynchronize");
    }

    /** Milliseconds between two recorded events (waits for the second). */
    float elapsed(MemorySegment start, MemorySegment end) {
        check(call(cuEventSynchronize, end), "cuEventSynchronize");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            check(call(cuEventElapsedTime, p, start, end), "cuEventElapsedTime");
            return p.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0);
        }
    }

    void sync(MemorySegment stream) {
        check(call(cuStreamSynchronize, stream), "cuStreamSynchronize");
    }

    void beginCapture(MemorySegment stream) {
        check(call(cuStreamBeginCapture, stream, 2), "cuStreamBeginCapture");   // relaxed mode
    }

    MemorySegment endCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(call(cuStreamEndCapture, stream, p), "cuStreamEndCapture");
            return p.get(ADDRESS, 0);
        }
    }

    MemorySegment instantiate(MemorySegment graph) {
        return outAddress(cuGraphInstantiate, "cuGraphInstantiateWithFlags", graph, 0L);
    }

    void graphLaunch(MemorySegment exec, MemorySegment stream) {
        check(call(cuGraphLaunch, exec, stream), "cuGraphLaunch");
    }
}
