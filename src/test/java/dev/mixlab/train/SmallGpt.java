package dev.mixlab.train;

import dev.mixlab.config.Config;
import dev.mixlab.config.ConfigLoader;
import dev.mixlab.ir.Program;

/**
 * A small nanoGPT-shaped model for planning tests (d = 64, two layers of two heads, 32-token context,
 * dropout 0.1, layer norm, learned positions, tied embeddings) with a chosen activation and biases.
 */
public final class SmallGpt {
    private SmallGpt() {}

    /** The config: activation "gelu" with no biases is nanoGPT's; "gelu_tanh" with biases GPT-2's. */
    public static Config config(String activation, boolean bias) {
        return ConfigLoader.parse("""
                {"model_dim": 64, "seq_len": 32, "dropout": 0.1, "positional_embedding": "learned_absolute",
                 "norm_type": "layernorm", "bias": %s, "tie_embeddings": true,
                 "blocks": [{"type": "plain", "heads": 2, "activation": "%s", "repeat": 2}],
                 "training": {"batch_tokens": 256}}
                """.formatted(bias, activation), "small-gpt.json");
    }

    /** Its whole training step (forward, backward, optimizer). */
    public static Program trainStep(String activation, boolean bias) {
        Config c = config(activation, bias);
        return Programs.trainStep(c, Programs.batch(c));
    }
}
