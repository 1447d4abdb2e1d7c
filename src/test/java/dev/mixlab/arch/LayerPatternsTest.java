package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.BlockSpec;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigException;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.config.GroupBlock;
import dev.mixlab.config.PlainBlock;
import dev.mixlab.ir.Value;
import dev.mixlab.train.ModelReport;
import dev.mixlab.train.Programs;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code group} and {@code layer_pattern} are notation: a config using them builds exactly the model
 * of the config that spells every layer out (same layers, parameter names, counts and logits).
 */
class LayerPatternsTest {
    static Config parse(String blocks) {
        return ConfigLoader.parse(CausalityTest.BASE.formatted("rope", "rmsnorm", blocks, ""), "patterns.json");
    }

    static final String P = "{\"type\": \"plain\", \"heads\": 2%s}";

    static void assertSameModel(Config spelled, Config compact) {
        assertEquals(spelled.layers(), compact.layers());
        List<String> a = Programs.forward(spelled, 2).params().stream().map(Value::name).toList();
        List<String> b = Programs.forward(compact, 2).params().stream().map(Value::name).toList();
        assertEquals(a, b, "parameter names");
        assertEquals(ModelReport.of(spelled).parameters(), ModelReport.of(compact).parameters());
        assertEquals(ModelReport.of(spelled).toString().replace(spelled.name(), ""), ModelReport.of(compact).toString().replace(compact.name(), ""));
        assertArrayEquals(CausalityTest.logits(spelled, new CpuBackend()), CausalityTest.logits(compact, new CpuBackend()), 0.0);
    }

    @Test
    void groupIsItsSubListRepeatedWithFlatLayerNumbers() {
        Config compact = parse("{\"type\": \"group\", \"repeat\": 2, \"blocks\": [" + P.formatted(", \"window_size\": 3, \"repeat\": 3")
                + ", " + P.formatted("") + "]}, {\"type\": \"swiglu\"}");
        String w = P.formatted(", \"window_size\": 3"), g = P.formatted("");
        Config spelled = parse(String.join(", ", w, w, w, g, w, w, w, g, "{\"type\": \"swiglu\"}"));
        assertEquals(9, compact.layers().size());
        assertInstanceOf(GroupBlock.class, compact.blocks().getFirst());
        assertSameModel(spelled, compact);
        assertTrue(Programs.forward(compact, 2).params().stream().anyMatch(v -> v.name().equals("blocks.7.attn.q.weight")));
        assertTrue(Programs.forward(compact, 2).params().stream().anyMatch(v -> v.name().equals("blocks.8.mlp.gate.weight")));
    }

    @Test
    void nestedGroupsFlattenInOrder() {
        Config compact = parse("{\"type\": \"group\", \"repeat\": 2, \"blocks\": [{\"type\": \"mlp\"}, {\"type\": \"group\","
                + " \"repeat\": 2, \"blocks\": [" + P.formatted(", \"window_size\": 2") + "]}]}");
        String m = "{\"type\": \"mlp\"}", w = P.formatted(", \"window_size\": 2");
        assertSameModel(parse(String.join(", ", m, w, w, m, w, w)), compact);
    }

    @Test
    void layerPatternMakesTheGLayersGlobal() {
        Config compact = parse(P.formatted(", \"window_size\": 3, \"layer_pattern\": \"LLG\", \"repeat\": 5"));
        List<BlockSpec> layers = compact.layers();
        int[] windows = layers.stream().mapToInt(l -> ((PlainBlock) l).windowSize()).toArray();
        assertArrayEquals(new int[] {3, 3, 0, 3, 3}, windows, "the pattern cycles over the repeats");
        String l = P.formatted(", \"window_size\": 3"), g = P.formatted("");
        assertSameModel(parse(String.join(", ", l, l, g, l, l)), compact);
        // chunked local layers: G drops the chunks too
        Config chunked = parse(P.formatted(", \"attn_chunk_size\": 4, \"layer_pattern\": \"GL\", \"repeat\": 3"));
        String c = P.formatted(", \"attn_chunk_size\": 4");
        assertSameModel(parse(String.join(", ", g, c, g)), chunked);
    }

    @Test
    void moeLayerPatternMakesItsGLayersGlobal() {
        // the pattern of a moe block's plain attention resolves as plain's does (it was once ignored: every layer local)
        String m = "{\"type\": \"moe\", \"heads\": 2, \"experts\": 3%s}";
        Config compact = parse(m.formatted(", \"window_size\": 3, \"layer_pattern\": \"LG\", \"repeat\": 3"));
        int[] windows = compact.layers().stream().mapToInt(l -> ((PlainBlock) ((dev.mixlab.config.MoeBlock) l).mixer())
                .windowSize()).toArray();
        assertArrayEquals(new int[] {3, 0, 3}, windows);
        String l = m.formatted(", \"window_size\": 3"), g = m.formatted("");
        assertSameModel(parse(String.join(", ", l, g, l)), compact);
    }

    @Test
    void globalLayersTakeTheirOwnRope() {
        // Gemma 3: sliding-window local layers, global layers with RoPE base 1e6
        Config gemma = parse(P.formatted(", \"window_size\": 3, \"layer_pattern\": \"LLG\", \"global_rope_base\": 1000000, \"repeat\": 3"));
        String l = P.formatted(", \"window_size\": 3"), g = P.formatted(", \"rope_base\": 1000000");
        assertSameModel(parse(String.join(", ", l, l, g)), gemma);
        // Llama 4's iRoPE: chunked RoPE layers, NoPE global layers
        Config llama4 = parse(P.formatted(", \"attn_chunk_size\": 4, \"layer_pattern\": \"LLG\", \"global_nope\": true, \"repeat\": 3"));
        String c = P.formatted(", \"attn_chunk_size\": 4"), nope = P.formatted(", \"nope\": true");
        assertSameModel(parse(String.join(", ", c, c, nope)), llama4);
        // the options are live: without them the global layer (and so the logits) differ
        Config plainGlobal = parse(P.formatted(", \"window_size\": 3, \"layer_pattern\": \"LLG\", \"repeat\": 3"));
        assertFalse(java.util.Arrays.equals(CausalityTest.logits(plainGlobal, new CpuBackend()), CausalityTest.logits(gemma, new CpuBackend())));
        Config ropeGlobal = parse(P.formatted(", \"attn_chunk_size\": 4, \"layer_pattern\": \"LLG\", \"repeat\": 3"));
        assertFalse(java.util.Arrays.equals(CausalityTest.logits(ropeGlobal, new CpuBackend()), CausalityTest.logits(llama4, new CpuBackend())));
        assertEquals(2, Programs.forward(llama4, 1).nodes().stream().filter(n -> n.op() instanceof dev.mixlab.ir.Rope).count() / 2,
                "two RoPE layers (q and k each), the NoPE layer has none");
    }

    @Test
    void writtenConfigsRoundTrip() {
        Config c = parse("{\"type\": \"group\", \"repeat\": 3, \"blocks\": [" + P.formatted(", \"window_size\": 3,"
                + " \"layer_pattern\": \"LG\", \"repeat\": 2, \"attn_chunk_size\": 5, \"global_rope_base\": 500, \"global_nope\": true,"
                + " \"rope_base\": 50") + ", {\"type\": \"mlp\"}]}");
        String json = ConfigWriter.toJson(c);
        Config back = ConfigLoader.parse(json, "back.json");
        assertEquals(c.blocks(), back.blocks(), json);
        assertEquals(json, ConfigWriter.toJson(back));
    }

    @Test
    void badPatternsAndGroupsGiveOneLineErrorsAtTheirPointer() {
        assertError("{\"type\": \"group\", \"blocks\": [" + P.formatted(", \"layer_pattern\": \"LX\", \"window_size\": 2") + "]}",
                "/blocks/0/blocks/0/layer_pattern", "other than L and G");
        assertError(P.formatted(", \"layer_pattern\": \"LG\""), "/blocks/0/layer_pattern", "window_size and attn_chunk_size are 0");
        assertError("{\"type\": \"group\", \"blocks\": []}", "/blocks/0/blocks", "at least one block");
        assertError("{\"type\": \"group\", \"blocks\": [{\"type\": \"plain\", \"heads\": 5}]}", "/blocks/0/blocks/0/heads",
                "does not divide model_dim");
        assertError("{\"type\": \"group\", \"blocks\": [{\"type\": \"plainn\"}]}", "/blocks/0/blocks/0/type", "did you mean \"plain\"");
        assertError(P.formatted(", \"attn_chunk_size\": -1"), "/blocks/0/attn_chunk_size", "negative");
        assertError(P.formatted(", \"window_size\": 3, \"global_nope\": true"), "/blocks/0/global_nope", "need a layer_pattern");
        assertError(P.formatted(", \"window_size\": 3, \"layer_pattern\": \"LG\", \"global_rope_base\": -1"), "/blocks/0/global_rope_base",
                "negative");
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CausalityTest.BASE.formatted("none", "rmsnorm",
                P.formatted(", \"nope\": true"), ""), "p.json"));
        assertEquals("/blocks/0/nope", e.path());
        assertTrue(e.getMessage().contains("needs positional_embedding \"rope\""), e.getMessage());
    }

    static void assertError(String blocks, String pointer, String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(blocks));
        assertEquals(pointer, e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
