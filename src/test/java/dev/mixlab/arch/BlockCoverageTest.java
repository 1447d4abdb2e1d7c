package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.config.BlockSpec;
import dev.mixlab.infer.DecodeConsistencyTest;
import dev.mixlab.train.CudaTrainingParityTest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The proof suites are one catalogue per property: every built-in block type (each record of the
 * sealed {@link BlockSpec} family with a {@code TYPE}) must appear in the causality cases, the
 * cached-decoding cases and the CUDA-vs-CPU training cases, so a new block joins the proofs by existing
 * — or this test names it.
 */
class BlockCoverageTest {
    static List<String> builtInTypes() throws ReflectiveOperationException {
        List<String> types = new ArrayList<>();
        addTypes(BlockSpec.class, types);
        return types;
    }

    /** The TYPEs of the records under {@code sealed}, through sealed sub-interfaces such as {@code MixerSpec}. */
    private static void addTypes(Class<?> sealed, List<String> types) throws ReflectiveOperationException {
        for (Class<?> c : sealed.getPermittedSubclasses()) {
            if (c.isInterface() && c.isSealed()) {
                addTypes(c, types);
                continue;
            }
            try {
                types.add((String) c.getField("TYPE").get(null));
            } catch (NoSuchFieldException e) {
                // PluginBlock: types come from plug-ins (the test-scope gated_mlp is in both suites)
            }
        }
    }

    static String joined(Stream<Arguments> cases) {
        StringBuilder sb = new StringBuilder();
        cases.forEach(a -> {
            for (Object o : a.get()) sb.append(o).append('\n');
        });
        return sb.toString().replace(" ", "");
    }

    static void assertCovered(String suite, String text) throws ReflectiveOperationException {
        List<String> missing = new ArrayList<>();
        for (String t : builtInTypes()) if (!text.contains("\"type\":\"" + t + "\"")) missing.add(t);
        assertTrue(missing.isEmpty(), suite + " has no case for block types " + missing + ": add one");
    }

    @Test
    void everyBlockTypeIsProvenCausal() throws ReflectiveOperationException {
        assertCovered("CausalityTest", joined(CausalityTest.cases()));
    }

    @Test
    void everyBlockTypeIsProvenCacheConsistent() throws ReflectiveOperationException {
        assertCovered("DecodeConsistencyTest", joined(DecodeConsistencyTest.cases()));
    }

    @Test
    void everyBlockTypeTrainsTheSameOnCuda() throws ReflectiveOperationException {
        assertCovered("CudaTrainingParityTest", joined(CudaTrainingParityTest.blockCases()));
    }

    @Test
    void theCatalogueKnowsTheBuiltInTypes() throws ReflectiveOperationException {
        assertTrue(builtInTypes().containsAll(List.of("plain", "mlp", "swiglu", "mla", "moe", "retnet", "mlstm", "rwkv", "group",
                        "gated_deltanet", "mamba2", "mamba")),
                builtInTypes().toString());
    }
}
