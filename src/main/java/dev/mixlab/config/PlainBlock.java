package dev.mixlab.config;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code "type": "plain"}: pre-norm causal multi-head attention followed by its FFN tail.
 *
 * @param heads      attention heads (divides model_dim)
 * @param kvHeads    key/value heads (divides heads; fewer than heads means grouped-query attention)
 * @param headDim    width of each head; model_dim / heads unless the config sets it
 * @param activation FFN nonlinearity (ignored by {@code swiglu} and {@code none} tails)
 * @param ffn        FFN tail after attention
 * @param mlpMult    FFN hidden width is round(model_dim * mlpMult)
 * @param repeat     number of identical consecutive layers
 * @param windowSize sliding-window attention: each query sees itself and the {@code windowSize - 1} keys
 *                   before it; 0 is full causal attention
 * @param attnSoftcap attention logit softcap: each scaled score s becomes c·tanh(s/c) before the softmax; 0 is off
 * @param alibi      ALiBi: the (capped) score of query i and key j gets −m_h·(i − j) with the standard head slopes
 * @param attnChunkSize chunked attention (Llama 4): query i sees only keys of its own chunk
 *                   {@code floor(i/N)·N ≤ j ≤ i}, and RoPE positions restart at every chunk; 0 is off
 * @param layerPattern global/local pattern over the repeats: layer k of this spec is local (keeps
 *                   {@code windowSize}/{@code attnChunkSize}) when {@code layerPattern[k % len]} is
 *                   {@code 'L'}, global (full causal attention) when it is {@code 'G'}; "" = every layer local
 * @param differential differential attention (Differential Transformer): two softmax maps subtracted with
 *                   a learned λ, per-head RMSNorm, scaled by (1 − λ_init)
 * @param ropeBase   RoPE base of these layers; 0 = the model's {@code rope_base}
 * @param nope       these layers use no RoPE (NoPE), e.g. Llama 4's global layers
 * @param globalRopeBase RoPE base of the pattern's global layers (Gemma 3: 1e6); 0 = as the local ones
 * @param globalNope the pattern's global layers use no RoPE (Llama 4's iRoPE)
 * @param outputGate gated attention (Qwen3-Next; Qiu et al. 2025): the attention output, before the output
 *                   projection, is multiplied elementwise by sigmoid of a learned projection of the block input
 */
public record PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult,
                         int repeat, int windowSize, double attnSoftcap, boolean alibi, int attnChunkSize,
                         String layerPattern, boolean differential, double ropeBase, boolean nope, double globalRopeBase,
                         boolean globalNope, boolean outputGate) implements MixerSpec {
    /** No output gate. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat,
                      int windowSize, double attnSoftcap, boolean alibi, int attnChunkSize, String layerPattern, boolean differential,
                      double ropeBase, boolean nope, double globalRopeBase, boolean globalNope) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi, attnChunkSize, layerPattern,
                differential, ropeBase, nope, globalRopeBase, globalNope, false);
    }

    /** Full causal attention. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, 0, 0, false);
    }

    /** No attention logit softcap. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat,
                      int windowSize) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, 0, false);
    }

    /** No ALiBi. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat,
                      int windowSize, double attnSoftcap) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, false);
    }

    /** No chunks, no layer pattern, not differential. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat,
                      int windowSize, double attnSoftcap, boolean alibi) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi, 0, "", false);
    }

    /** RoPE as the model's in every layer. */
    public PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult, int repeat,
                      int windowSize, double attnSoftcap, boolean alibi, int attnChunkSize, String layerPattern, boolean differential) {
        this(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi, attnChunkSize, layerPattern,
                differential, 0, false, 0, false);
    }

    public PlainBlock {
        if (layerPattern == null) layerPattern = "";
        if (!layerPattern.matches("[LG]*")) throw new IllegalArgumentException("layer pattern \"" + layerPattern + "\" is not L/G");
    }

    /** JSON type name. */
    public static final String TYPE = "plain";

    @Override public String type() { return TYPE; }

    @Override public PlainBlock withRepeat(int repeat) {
        return new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi,
                attnChunkSize, layerPattern, differential, ropeBase, nope, globalRopeBase, globalNope, outputGate);
    }

    /**
     * @return this layer as a global one: full causal attention (no window, no chunks), with the
     *         global RoPE settings ({@code globalRopeBase} if set, {@code globalNope})
     */
    public PlainBlock global() {
        return new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, 0, attnSoftcap, alibi, 0, "",
                differential, globalRopeBase > 0 ? globalRopeBase : ropeBase, nope || globalNope, 0, false, outputGate);
    }

    /** @return this layer without the pattern's global settings (a resolved local layer) */
    private PlainBlock localOnly() {
        return new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi,
                attnChunkSize, "", differential, ropeBase, nope, 0, false, outputGate);
    }

    /** @return one spec per layer; with a {@code layerPattern} its 'G' layers are {@link #global()} and the pattern is resolved away */
    @Override public List<BlockSpec> layers() {
        PlainBlock local = new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, 1, windowSize, attnSoftcap,
                alibi, attnChunkSize, "", differential, ropeBase, nope, globalRopeBase, globalNope, outputGate);
        List<BlockSpec> out = new ArrayList<>();
        for (int k = 0; k < repeat; k++) {
            boolean global = !layerPattern.isEmpty() && layerPattern.charAt(k % layerPattern.length()) == 'G';
            out.add(global ? local.global() : local.localOnly());
        }
        return List.copyOf(out);
    }
}
