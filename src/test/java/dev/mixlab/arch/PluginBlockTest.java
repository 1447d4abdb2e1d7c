package dev.mixlab.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigException;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.config.ConfigWriter;
import dev.mixlab.config.PluginBlock;
import dev.mixlab.io.SafetensorsFile;
import dev.mixlab.train.Checkpoints;
import dev.mixlab.train.ModelReport;
import dev.mixlab.train.RunSummary;
import dev.mixlab.train.TrainOptions;
import dev.mixlab.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block registered through {@link java.util.ServiceLoader} (the test-scope {@link GatedMlpProvider})
 * is a block like the built-in ones: configs use it by its type, with strict field checks; it
 * counts, trains, and checkpoints with exact resume.
 */
class PluginBlockTest {
    static final String CFG = """
            {"name": "plug", "model_dim": 16, "seq_len": 16, "vocab_size": 256, "positional_embedding": "rope", "norm_type": "rmsnorm",
             "blocks": [{"type": "plain", "heads": 2, "ffn": "none"}, {"type": "gated_mlp", "gate": "silu", "mlp_mult": 3, "repeat": 2}],
             "training": {"steps": 8, "lr": 3e-3, "batch_tokens": 64, "log_every_steps": 1, "val_tokens": 64}}
            """;

    @TempDir
    Path tmp;

    @Test
    void configsUseThePluginTypeWithStrictFields() {
        Config c = ConfigLoader.parse(CFG, "plug.json");
        PluginBlock pb = assertInstanceOf(PluginBlock.class, c.blocks().get(1));
        assertEquals("gated_mlp", pb.type());
        assertEquals(new GatedMlpProvider.Spec(dev.mixlab.ir.UnaryFn.SILU, 3.0), pb.spec());
        assertEquals(3, c.layers().size());
        // written back and read again: the same config
        assertEquals(c, ConfigLoader.parse(ConfigWriter.toJson(c), "plug.json"));
        // unknown fields, bad values, and unknown types (which now list the plug-in) are one-line errors
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CFG.replace("\"gate\"", "\"gatee\""), "p.json"));
        assertEquals("/blocks/1/gatee", e.path());
        assertTrue(e.getMessage().contains("did you mean \"gate\""), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CFG.replace("\"silu\"", "\"softsign\""), "p.json"));
        assertEquals("/blocks/1/gate", e.path());
        assertTrue(e.getMessage().contains("use one of gelu"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CFG.replace("\"gated_mlp\"", "\"gated_mpl\""), "p.json"));
        assertTrue(e.getMessage().contains("gated_mlp") && e.getMessage().contains("did you mean \"gated_mlp\""), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void countsExactly() {
        Config c = ConfigLoader.parse(CFG, "plug.json");
        long d = 16, hidden = 48, v = 256;
        long attn = d + 4 * d * d;                         // attn_norm + q, k, v, proj
        long gated = 2 * (d + 3 * d * hidden);             // 2 layers: mlp_norm + gate, up, proj
        assertEquals(v * d + attn + gated + d, ModelReport.of(c).parameters());
    }

    @Test
    void trainsAndResumesFromACheckpointExactly() throws IOException {
        Path text = tmp.resolve("t.txt");
        Files.write(text, java.util.Arrays.copyOf(Files.readAllBytes(Path.of("data/tinyshakespeare.txt")), 20_000));
        Config c = ConfigLoader.parse(CFG, "plug.json");
        RunSummary full = train(c, text, tmp.resolve("full"), Checkpoints.Options.NONE);
        assertTrue(full.lastLoss() < full.firstLoss(), "the loss went down: " + full.firstLoss() + " -> " + full.lastLoss());
        Path run = tmp.resolve("run");
        train(c, text, run, new Checkpoints.Options(0, 2, null, 4));
        RunSummary resumed = train(c, text, run, new Checkpoints.Options(0, 2, run, null));
        assertEquals(full.lastLoss(), resumed.lastLoss(), 0.0);
        // the plug-in's weights are in the checkpoint under their flat layer names
        java.util.List<String> names = new java.util.ArrayList<>();
        try (Stream<Path> files = Files.walk(run)) {
            for (Path st : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                try (SafetensorsFile f = dev.mixlab.io.Safetensors.read(st)) {
                    names.addAll(f.names());
                }
            }
        }
        assertTrue(names.contains("blocks.2.mlp.gate.weight"), names.toString());
    }

    static RunSummary train(Config c, Path text, Path out, Checkpoints.Options ck) {
        TrainOptions o = new TrainOptions(text.toString(), null, null, null, out, null, false, ck);
        return new Trainer(c, o, new CpuBackend(), new PrintStream(new ByteArrayOutputStream())).run();
    }
}
