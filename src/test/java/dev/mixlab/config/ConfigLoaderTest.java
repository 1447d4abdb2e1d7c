package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    static final Path RES = Path.of("src/test/resources/config");
    static final String MINIMAL = "{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"plain\", \"heads\": 4}]}";

    @Test
    void shakespeareExampleParses() {
        Config c = ConfigLoader.load(RES.resolve("shakespeare_char.json"));
        assertEquals("shakespeare_char", c.name());
        assertEquals(384, c.modelDim());
        assertEquals(256, c.seqLen());
        assertEquals(0.2, c.dropout());
        assertEquals(List.of(new PlainBlock(6, 6, 64, Activation.GELU, FfnType.MLP, 4.0, 6)), c.blocks());
        assertEquals(6, c.layers().size());
        TrainSpec t = c.training();
        assertEquals(5000, t.steps());
        assertEquals(1e-4, t.minLr());
        assertEquals(100, t.warmupSteps());
        assertEquals(0.99, t.beta2());
        assertEquals(0.1, t.weightDecay());
        assertEquals(500, t.valEverySteps());
    }

    @Test
    void defaultsAreFilledIn() {
        Config c = ConfigLoader.parse(MINIMAL, "runs/tiny.json");
        assertEquals("tiny", c.name());
        assertEquals(256, c.vocabSize());
        assertEquals(4.0, c.mlpMult());
        assertTrue(c.tieEmbeddings());
        assertEquals(0.0, c.dropout());
        assertEquals(PositionalEmbedding.LEARNED_ABSOLUTE, c.positionalEmbedding());
        assertEquals(NormType.LAYERNORM, c.normType());
        assertEquals(1e-5, c.normEps());
        assertTrue(c.normWeight());
        assertFalse(c.bias());
        assertEquals(0.02, c.initStd());
        assertEquals(10000.0, c.ropeBase());
        assertEquals(new TrainSpec(1000, 1e-3, 0.0, Schedule.COSINE, 0, 16384, Optimizer.ADAMW, 0.9, 0.95, 1e-8,
                0.0, 1.0, 1337, 0, 65536, 10, 0), c.training());
        assertEquals(DataSpec.EMPTY, c.data());
        assertEquals(new PlainBlock(4, 4, 16, Activation.GELU, FfnType.MLP, 4.0, 1), c.blocks().getFirst());
    }

    @Test
    void commentsAndTrailingCommasAreAccepted() {
        Config c = ConfigLoader.load(RES.resolve("commented.json"));
        assertEquals("commented", c.name());
        assertEquals(List.of(
                new PlainBlock(4, 4, 16, Activation.GELU, FfnType.MLP, 4.0, 2),
                new MlpBlock(Activation.RELU2, 4.0, 1),
                new SwigluBlock(2.6667, 1)), c.blocks());
    }

    @Test
    void repeatExpandsIntoLayers() {
        Config c = ConfigLoader.load(RES.resolve("commented.json"));
        List<BlockSpec> layers = c.layers();
        assertEquals(4, layers.size());
        PlainBlock one = new PlainBlock(4, 4, 16, Activation.GELU, FfnType.MLP, 4.0, 1);
        assertEquals(List.of(one, one, new MlpBlock(Activation.RELU2, 4.0, 1), new SwigluBlock(2.6667, 1)), layers);
    }

    @Test
    void blockMlpMultDefaultsToTopLevel() {
        Config c = ConfigLoader.parse("{\"model_dim\": 60, \"seq_len\": 8, \"mlp_mult\": 2.5, \"blocks\": ["
                + "{\"type\": \"swiglu\"}, {\"type\": \"mlp\", \"mlp_mult\": 1}]}", "m.json");
        assertEquals(2.5, c.blocks().get(0).mlpMult());
        assertEquals(1.0, c.blocks().get(1).mlpMult());
    }

    @Test
    void integralFloatsAreIntegers() {
        Config c = ConfigLoader.parse("{\"model_dim\": 6.4e1, \"seq_len\": 32, \"blocks\": [{\"type\": \"plain\","
                + " \"heads\": 4}], \"training\": {\"steps\": 1e3, \"batch_tokens\": 1024}}", "x.json");
        assertEquals(64, c.modelDim());
        assertEquals(1000, c.training().steps());
    }

    @Test
    void dataSectionIsOptionalAndNullable() {
        Config c = ConfigLoader.parse("{\"model_dim\": 64, \"seq_len\": 32, \"blocks\": [{\"type\": \"plain\","
                + " \"heads\": 4}], \"data\": {\"train\": \"data/*.bin\", \"val\": null}}", "x.json");
        assertEquals("data/*.bin", c.data().train());
        assertNull(c.data().val());
    }

    @Test
    void blocksListIsImmutable() {
        Config c = ConfigLoader.parse(MINIMAL, "x.json");
        assertThrows(UnsupportedOperationException.class, () -> c.blocks().add(new SwigluBlock(1, 1)));
    }
}
