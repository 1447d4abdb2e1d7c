package dev.mixlab.hf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mixlab.backend.Executable;
import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.ir.Program;
import dev.mixlab.tokenizer.HfTokenizer;
import dev.mixlab.train.Programs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with Hugging Face transformers: tiny random models saved by reference/hf_tiny_models.py
 * (src/test/resources/hf/&lt;family&gt;/) are imported, run through mixlab's CPU forward pass, and
 * must give transformers' float32 logits to 1e-4 (max abs difference over max |logit|); the HF
 * tokenizer's ids for the prompt must come out of {@link HfTokenizer}. A family whose folder is
 * absent is skipped with a one-line notice.
 */
class HfParityTest {
    static final Path ROOT = Path.of("src/test/resources/hf");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "mistral", "qwen2", "gpt2"})
    void logitsAndTokensMatchTransformers(String family) throws Exception {
        Path dir = ROOT.resolve(family);
        if (!Files.isRegularFile(dir.resolve("expected.json"))) {
            System.out.println("HfParityTest: skipping " + family + ": no goldens in " + dir
                    + " (run python3 reference/hf_tiny_models.py where torch and transformers are installed)");
            Assumptions.abort("no goldens for " + family);
        }
        JsonNode exp = new ObjectMapper().readTree(Files.readString(dir.resolve("expected.json")));
        int[] ids = new int[exp.path("input_ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = exp.path("input_ids").get(i).asInt();

        HfTokenizer tok = HfTokenizer.load(dir.resolve("tokenizer.json"));
        String prompt = exp.path("prompt").asText();
        assertArrayEquals(ids, tok.encode(prompt), family + ": token ids of the prompt");
        assertEquals(prompt, tok.decode(ids), family + ": decoded prompt");

        HfImport.Imported m = HfImport.read(dir, null, family);
        assertEquals(exp.path("architecture").asText(), m.architecture());
        Config c = m.config();
        assertTrue(ids.length <= c.seqLen(), "prompt longer than the context");
        // The program has a fixed length; causal attention makes the padding invisible to the prompt's rows.
        int[] padded = new int[c.seqLen()];
        System.arraycopy(ids, 0, padded, 0, ids.length);
        Program p = Programs.forward(c, 1);
        float[] logits;
        try (Executable e = new CpuBackend().compile(p)) {
            for (var v : p.params()) e.setFloats(v.name(), m.weights().get(v.name()).floats());
            e.setInts(Programs.IDS, padded);
            e.setInts(Programs.TARGETS, new int[c.seqLen()]);
            e.run();
            logits = e.getFloats("logits");
        }
        JsonNode want = exp.path("logits_float32");
        int vocab = c.vocabSize();
        assertEquals(ids.length, want.size());
        assertEquals(vocab, want.get(0).size());
        double maxAbs = 0, maxDiff = 0;
        for (int t = 0; t < ids.length; t++) {
            for (int v = 0; v < vocab; v++) {
                double w = want.get(t).get(v).asDouble();
                maxAbs = Math.max(maxAbs, Math.abs(w));
                maxDiff = Math.max(maxDiff, Math.abs(w - logits[t * vocab + v]));
            }
        }
        assertTrue(maxDiff <= 1e-4 * maxAbs, family + ": max |mixlab - transformers| = " + maxDiff
                + " over max |logit| " + maxAbs);

        // and back: the exported tensors are the ones transformers saved
        var back = HfExport.map(c, m.weights(), family);
        assertEquals(exp.path("architecture").asText().equals("MistralForCausalLM") ? "LlamaForCausalLM"
                : exp.path("architecture").asText(), back.architecture());
        var orig = HfImport.readWeights(dir);
        for (var e : back.weights().entrySet()) {
            assertArrayEquals(orig.get(e.getKey()).floats(), e.getValue().floats(), family + ": exported " + e.getKey());
        }
    }
}
