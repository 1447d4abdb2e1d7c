package dev.mixlab.infer;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.backend.cpu.CpuBackend;
import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Mlstm;
import dev.mixlab.ir.Node;
import dev.mixlab.ir.Program;
import dev.mixlab.ir.Retention;
import dev.mixlab.train.ModelReport;
import dev.mixlab.train.ParamInit;
import dev.mixlab.train.Programs;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The recurrent blocks outside the kernels: {@code count} reports their exact parameters and the
 * scans' FLOPs, and the decoder's recurrent state starts over at position 0 and refuses a partial
 * rewind (it cannot forget single tokens).
 */
class RecurrentBlocksTest {
    static final String BASE = """
            {"model_dim": 24, "seq_len": 12, "vocab_size": 40, "positional_embedding": "rope", "norm_type": "rmsnorm",
             "blocks": [%s], "training": {"batch_tokens": 24}}
            """;

    static Config config(String blocks) {
        return ConfigLoader.parse(BASE.formatted(blocks), "recurrent.json");
    }

    @Test
    void countReportsExactParameters() {
        int d = 24;
        long ffnOnly = ModelReport.of(config("{\"type\": \"mlp\"}")).parameters();
        // retnet: attn_norm [D], q and k [H·dk, D], v and gate [H·dv, D], proj [D, H·dv]; the same FFN tail as mlp
        int h = 3, dk = 8, dv = 16;
        assertEquals(ffnOnly + d + 2L * h * dk * d + 3L * h * dv * d,
                ModelReport.of(config("{\"type\": \"retnet\", \"heads\": 3}")).parameters());
        assertEquals(ffnOnly + d + 2L * h * dk * d + 3L * h * 5 * d,
                ModelReport.of(config("{\"type\": \"retnet\", \"heads\": 3, \"value_dim\": 5}")).parameters());
        // mlstm: attn_norm [D], q, k, v, ogate [H·hd, D], proj [D, H·hd], igate and fgate weight [H, D] + bias [H]
        int mh = 4, hd = 6;
        assertEquals(ffnOnly + d + 5L * mh * hd * d + 2L * (mh * d + mh),
                ModelReport.of(config("{\"type\": \"mlstm\"}")).parameters());
    }

    @Test
    void countReportsExactRwkvParameters() {
        int d = 24, hs = 6, heads = d / hs, mix = 3, decay = 5, hidden = 84;
        String rwkv = "{\"type\": \"rwkv\", \"head_size\": 6, \"mix_lora_dim\": 3, \"decay_lora_dim\": 5, \"mlp_mult\": 3.5}";
        Config c = ConfigLoader.parse(BASE.formatted(rwkv), "rwkv.json");
        long base = ModelReport.of(config("{\"type\": \"mlp\"}")).parameters();
        long mlpBlock = d + 2L * d * 4 * d;   // mlp_norm + fc + proj of the mlp block (mlp_mult 4)
        // time mix: attn_norm, μ_x and five μ_c, five LoRAs (A [mix,D], B [D,mix]), r k v gate output [D,D],
        // time_decay [D], decay LoRA, u [D] (read as [H,hs]), ln_x weight and bias
        long tmix = d + 6L * d + 5L * 2 * mix * d + 5L * d * d + d + 2L * decay * d + (long) heads * hs + 2L * d;
        // channel mix: mlp_norm, μ_k, μ_r, key [hidden,D], value [D,hidden], receptance [D,D]
        long cmix = d + 2L * d + 2L * hidden * d + (long) d * d;
        assertEquals(base - mlpBlock + tmix + cmix, ModelReport.of(c).parameters());
    }

    @Test
    void scanFlopsAreCounted() {
        Config c = config("{\"type\": \"retnet\", \"heads\": 3, \"value_dim\": 5}, {\"type\": \"mlstm\", \"heads\": 2}");
        Program fwd = Programs.forward(c, 2);
        long scans = 0;
        for (Node n : fwd.nodes()) {
            if (n.op() instanceof Retention) scans += n.op().flops(n.inputTypes());
            if (n.op() instanceof Mlstm) scans += n.op().flops(n.inputTypes());
        }
        long bt = 2L * 12;
        assertEquals(bt * 3 * 5L * 8 * 5 + bt * 2 * (5L * 12 * 12 + 5 * 12 + 12 + 10), scans);
        long total = 0;
        for (Node n : fwd.nodes()) total += n.op().flops(n.inputTypes());
        assertEquals(total, fwd.flops());
        int batch = Programs.batch(c);   // the batch count uses
        assertEquals(Programs.eval(c, batch).flops() / (batch * 12L), ModelReport.of(c).forwardFlopsPerToken());
    }

    @Test
    void stateStartsOverAtPositionZeroAndRefusesPartialRewind() {
        Config c = config("{\"type\": \"retnet\", \"heads\": 2}, {\"type\": \"mlstm\", \"heads\": 2}");
        Map<String, float[]> w = ParamInit.values(Programs.forward(c, 1), 4);
        for (var e : w.entrySet()) if (e.getKey().contains("gate.")) for (int i = 0; i < e.getValue().length; i++) e.getValue()[i] += 0.3f * (i % 7 - 3);
        try (Generator g = new Generator(c, new CpuBackend(), w, 1)) {
            assertTrue(g.recurrent());
            float[] first = g.feed(new int[][] {{3, 1, 4, 1, 5}})[0];
            float[] next = g.feed(new int[][] {{9}})[0];
            g.feed(new int[][] {{2, 6}});
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.rewind(6));
            assertTrue(e.getMessage().contains("recurrent"), e.getMessage());
            g.reset();
            assertArrayEquals(first, g.feed(new int[][] {{3, 1, 4, 1, 5}})[0], "a new prompt at position 0 must not see the old state");
            assertArrayEquals(next, g.feed(new int[][] {{9}})[0]);
            g.rewind(0);
            assertArrayEquals(first, g.feed(new int[][] {{3, 1, 4, 1, 5}})[0]);
        }
    }
}
