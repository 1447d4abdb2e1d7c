package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigWriterTest {

    @Test
    void roundTripGivesAnEqualConfig() {
        for (String f : List.of("shakespeare_char.json", "commented.json")) {
            Config c = ConfigLoader.load(ConfigLoaderTest.RES.resolve(f));
            String json = ConfigWriter.toJson(c);
            Config back = ConfigLoader.parse(json, "other_name.json");
            assertEquals(c, back, json);
            assertEquals(json, ConfigWriter.toJson(back));
        }
    }

    @Test
    void roundTripKeepsDataAndNonDefaults() {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"positional_embedding\": \"rope\","
                + " \"bias\": true, \"blocks\": [{\"type\": \"plain\", \"heads\": 4, \"kv_heads\": 2,"
                + " \"ffn\": \"swiglu\"}], \"training\": {\"batch_tokens\": 64, \"seed\": 12345678901,"
                + " \"schedule\": \"linear\", \"optimizer\": \"sgd\"}, \"data\": {\"train\": \"a.bin\"}}", "x.json");
        assertEquals(c, ConfigLoader.parse(ConfigWriter.toJson(c), "y.json"));
    }

    @Test
    void mlaRoundTripsWithEveryFieldInOrder() throws Exception {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"mla\", \"heads\": 4,"
                + " \"q_lora_rank\": 24, \"v_head_dim\": 12, \"ffn\": \"swiglu\", \"repeat\": 2}, {\"type\": \"mla\", \"heads\": 2}],"
                + " \"training\": {\"batch_tokens\": 64}}", "x.json");
        String json = ConfigWriter.toJson(c);
        assertEquals(c, ConfigLoader.parse(json, "y.json"), json);
        assertEquals(Schema.MLA.names(), keys(ConfigLoader.MAPPER.readTree(json).get("blocks").get(0)));
    }

    @Test
    void moeBlockRoundTripsWithEveryFieldInOrder() throws Exception {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"moe\", \"heads\": 4,"
                + " \"kv_heads\": 2, \"experts\": 6, \"top_k\": 3, \"expert_ffn\": \"mlp\", \"activation\": \"relu2\","
                + " \"expert_mult\": 0.5, \"shared_experts\": 2, \"router\": \"sigmoid\", \"bias_balancing\": true,"
                + " \"bias_update_rate\": 0.003, \"capacity_factor\": 1.25, \"window_size\": 8, \"repeat\": 2}],"
                + " \"training\": {\"batch_tokens\": 64}}", "x.json");
        String json = ConfigWriter.toJson(c);
        assertEquals(c, ConfigLoader.parse(json, "y.json"));
        // every field in schema order but the other mixers', which a plain-mixer moe block refuses
        assertEquals(moeFields(MixerType.PLAIN), keys(ConfigLoader.MAPPER.readTree(json).get("blocks").get(0)));
        assertEquals(0.0, ((MoeBlock) c.blocks().get(0)).auxLossCoef(), "sigmoid routers default to no aux loss");
    }

    @Test
    void moeWithLatentAttentionRoundTripsWithItsFieldsInOrder() throws Exception {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"moe\", \"mixer\": \"mla\","
                + " \"heads\": 4, \"q_lora_rank\": 24, \"kv_lora_rank\": 20, \"qk_rope_head_dim\": 6, \"v_head_dim\": 12,"
                + " \"experts\": 6, \"top_k\": 3, \"shared_experts\": 1, \"router\": \"sigmoid\", \"bias_balancing\": true,"
                + " \"repeat\": 2}], \"training\": {\"batch_tokens\": 64}}", "x.json");
        String json = ConfigWriter.toJson(c);
        assertEquals(c, ConfigLoader.parse(json, "y.json"), json);
        MlaBlock a = (MlaBlock) ((MoeBlock) c.blocks().get(0)).mixer();
        assertEquals(new MlaBlock(4, 20, 24, 16, 6, 12, Activation.GELU, FfnType.NONE, 4.0, 1), a);
        assertEquals(moeFields(MixerType.MLA), keys(ConfigLoader.MAPPER.readTree(json).get("blocks").get(0)));
    }

    @Test
    void moeWithRecurrentMixersRoundTripsWithTheirFieldsInOrder() throws Exception {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"moe\","
                + " \"mixer\": \"gated_deltanet\", \"heads\": 4, \"expand_v\": 2, \"conv_size\": 3, \"experts\": 4},"
                + " {\"type\": \"moe\", \"mixer\": \"mamba2\", \"d_state\": 8, \"head_dim\": 16, \"ngroups\": 2, \"experts\": 4}],"
                + " \"training\": {\"batch_tokens\": 64}}", "x.json");
        String json = ConfigWriter.toJson(c);
        assertEquals(c, ConfigLoader.parse(json, "y.json"), json);
        assertEquals(moeFields(MixerType.GATED_DELTANET), keys(ConfigLoader.MAPPER.readTree(json).get("blocks").get(0)));
        assertEquals(moeFields(MixerType.MAMBA2), keys(ConfigLoader.MAPPER.readTree(json).get("blocks").get(1)));
    }

    /** The moe block's fields in schema order, less those of mixers other than {@code kind} (and heads for mamba2). */
    private static List<String> moeFields(MixerType kind) {
        List<String> out = new ArrayList<>(Schema.MOE.names());
        for (MixerType other : MixerType.values()) {
            for (String f : Schema.MOE_MIXER_FIELDS.get(other)) if (!Schema.MOE_MIXER_FIELDS.get(kind).contains(f)) out.remove(f);
        }
        if (kind == MixerType.MAMBA2) out.remove("heads");
        return out;
    }

    @Test
    void writtenJsonHasEverySchemaFieldInOrder() throws Exception {
        Config c = ConfigLoader.load(ConfigLoaderTest.RES.resolve("commented.json"));
        JsonNode root = ConfigLoader.MAPPER.readTree(ConfigWriter.toJson(c));
        assertEquals(Schema.TOP.names(), keys(root));
        assertEquals(Schema.TRAINING.names(), keys(root.get("training")));
        assertEquals(Schema.DATA.names(), keys(root.get("data")));
        assertEquals(Schema.PLAIN.names(), keys(root.get("blocks").get(0)));
        assertEquals(Schema.MLP.names(), keys(root.get("blocks").get(1)));
        assertEquals(Schema.SWIGLU.names(), keys(root.get("blocks").get(2)));
    }

    @Test
    void hashIsTwelveHexDigitsAndTracksContent() {
        Config a = ConfigLoader.parse(ConfigLoaderTest.MINIMAL, "a.json");
        String h = ConfigWriter.hash(a);
        assertTrue(h.matches("[0-9a-f]{12}"), h);
        assertEquals(h, ConfigWriter.hash(ConfigLoader.parse(ConfigLoaderTest.MINIMAL, "a.json")));
        assertNotEquals(h, ConfigWriter.hash(ConfigLoader.parse(ConfigLoaderTest.MINIMAL, "b.json")));
    }

    @Test
    void outputUsesUnixLineEnds() {
        String json = ConfigWriter.toJson(ConfigLoader.parse(ConfigLoaderTest.MINIMAL, "a.json"));
        assertTrue(!json.contains("\r") && json.contains("\n  \"model_dim\": 64"), json);
    }

    private static List<String> keys(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.properties().forEach(e -> out.add(e.getKey()));
        return out;
    }
}
