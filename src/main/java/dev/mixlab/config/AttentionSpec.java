package dev.mixlab.config;

/**
 * A block whose mixer is softmax attention and which can therefore be the attention half of a
 * {@link MoeBlock}: {@link PlainBlock} (multi-head / grouped-query attention with its mask and
 * position options) or {@link MlaBlock} (multi-head latent attention). Inside a {@code moe} block its
 * FFN tail is {@link FfnType#NONE}; the mixture of experts takes its place.
 */
public sealed interface AttentionSpec extends BlockSpec permits PlainBlock, MlaBlock {
    /** @return attention heads */
    int heads();

    /** @return the FFN nonlinearity (inside {@code moe}: the {@code mlp} experts' nonlinearity) */
    Activation activation();
}
