package dev.mixlab.config;

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
 */
public record PlainBlock(int heads, int kvHeads, int headDim, Activation activation, FfnType ffn, double mlpMult,
                         int repeat, int windowSize, double attnSoftcap, boolean alibi) implements BlockSpec {
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

    /** JSON type name. */
    public static final String TYPE = "plain";

    @Override public String type() { return TYPE; }

    @Override public PlainBlock withRepeat(int repeat) {
        return new PlainBlock(heads, kvHeads, headDim, activation, ffn, mlpMult, repeat, windowSize, attnSoftcap, alibi);
    }
}
