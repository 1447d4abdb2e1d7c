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
    void writtenConfigsRoundTrip() {
        Config c = parse("{\"type\": \"group\", \"repeat\": 3, \"blocks\": [" + P.formatted(", \"window_size\": 3,"
                + " \"layer_pattern\": \"LG\", \"repeat\": 2, \"attn_chunk_size\": 5") + ", {\"type\": \"mlp\"}]}");
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
    }

    static void assertError(String blocks, String pointer, String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(blocks));
        assertEquals(pointer, e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
