package dev.mixlab.config;

/**
 * The fields of one plug-in block entry, read against the plug-in's declared {@link BlockField}s:
 * defaults applied, wrong types and unknown keys reported as one-line errors at their JSON pointer.
 */
public final class BlockFields {
    private final FieldReader r;
    private final int modelDim;
    private final double mlpMult;

    BlockFields(FieldReader r, int modelDim, double mlpMult) {
        this.r = r;
        this.modelDim = modelDim;
        this.mlpMult = mlpMult;
    }

    /** @return the integer field (or its default) */
    public int integer(String key) {
        return r.integer(key);
    }

    /** @return the number field (or its default) */
    public double number(String key) {
        return r.number(key);
    }

    /** @return the boolean field (or its default) */
    public boolean bool(String key) {
        return r.bool(key);
    }

    /** @return the string field (or its default; null for a JSON null) */
    public String string(String key) {
        return r.nullableString(key);
    }

    /** @return the model's residual width ({@code model_dim}) */
    public int modelDim() {
        return modelDim;
    }

    /** @return the entry's {@code mlp_mult}, or the top-level one */
    public double mlpMult() {
        return mlpMult;
    }

    /** Reports {@code problem; fix} at {@code key} (a one-line config error) unless {@code ok}. */
    public void check(boolean ok, String key, String problem, String fix) {
        r.check(ok, key, problem, fix);
    }
}
