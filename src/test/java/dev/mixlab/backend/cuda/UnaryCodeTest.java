package dev.mixlab.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mixlab.ir.UnaryFn;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CUDA unary codes need no GPU to check: {@link CudaExecutable#fnCode} gives every function its
 * own code, and kernels.cu's {@code act()} and {@code dact()} each have exactly one case per code
 * (TANH is their {@code default}), as has the {@code FN_CASES} dispatch of the unary kernels' templated
 * instances, so a function added on one side only (or two functions sharing a
 * code after a merge) fails here rather than silently computing the wrong function on the GPU.
 */
class UnaryCodeTest {
    @Test
    void everyFunctionHasItsOwnCodeAndAKernelCase() throws IOException {
        String cu;
        try (InputStream in = CudaExecutable.class.getResourceAsStream("kernels.cu")) {
            cu = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Set<Integer> act = cases(cu, "float act(int fn, float x)"), dact = cases(cu, "float dact(int fn, float x)");
        // the unary kernels pick their templated instance with FN_CASES: a code missing there would run TANH
        Set<Integer> dispatch = cases(cu, "#define FN_CASES(CALL)");
        Set<Integer> codes = new HashSet<>();
        for (UnaryFn fn : UnaryFn.values()) {
            int c = CudaExecutable.fnCode(fn);
            assertTrue(codes.add(c), fn + " shares CUDA code " + c);
            if (fn == UnaryFn.TANH) continue;   // the switches' default
            assertTrue(act.contains(c), "act() has no case " + c + " for " + fn);
            assertTrue(dact.contains(c), "dact() has no case " + c + " for " + fn);
            assertTrue(dispatch.contains(c), "FN_CASES has no case " + c + " for " + fn);
        }
        assertEquals(UnaryFn.values().length - 1, dispatch.size(), "FN_CASES cases " + dispatch);
        assertEquals(UnaryFn.values().length - 1, act.size(), "act() cases " + act);
        assertEquals(UnaryFn.values().length - 1, dact.size(), "dact() cases " + dact);
    }

    /** The {@code case N:} labels of the switch in the function whose signature is {@code sig}. */
    private static Set<Integer> cases(String cu, String sig) {
        int from = cu.indexOf(sig);
        assertTrue(from >= 0, "kernels.cu has no " + sig);
        String body = cu.substring(from, cu.indexOf("default:", from));
        Set<Integer> out = new HashSet<>();
        Matcher m = Pattern.compile("case (\\d+):").matcher(body);
        while (m.find()) assertTrue(out.add(Integer.parseInt(m.group(1))), sig + ": case " + m.group(1) + " twice");
        return out;
    }
}
