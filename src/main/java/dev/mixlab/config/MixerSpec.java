package dev.mixlab.config;

/**
 * A block whose sequence mixer can be the mixer half of a {@link MoeBlock}: softmax attention
 * ({@link PlainBlock}, {@link MlaBlock}) or a recurrent mixer with a fixed-size state
 * ({@link GatedDeltaNetBlock}, {@link Mamba2Block}, {@link Mamba1Block}). Inside a {@code moe} block its FFN tail is
 * {@link FfnType#NONE}; the mixture of experts takes its place.
 */
public sealed interface MixerSpec extends BlockSpec permits PlainBlock, MlaBlock, GatedDeltaNetBlock, Mamba2Block, Mamba1Block {
    /** @return the FFN nonlinearity (inside {@code moe}: the {@code mlp} experts' nonlinearity) */
    Activation activation();
}
