package dev.mixlab.backend.cuda;

import dev.mixlab.ir.Attention;
import dev.mixlab.ir.AttentionGrad;

/**
 * What every attention kernel takes besides its shapes and tensors: the score scale, the dropout
 * (rate, salt), the mask (sliding window, chunk) and the logit options (softcap, ALiBi). The forward op
 * and its gradient op carry the same values; a forward/backward pair must agree on all of them.
 */
record MaskArgs(double scale, double dropout, int salt, int window, double softcap, boolean alibi, int chunk) {
    static MaskArgs of(Attention a) {
        return new MaskArgs(a.scale(), a.dropout(), a.salt(), a.window(), a.softcap(), a.alibi(), a.chunk());
    }

    static MaskArgs of(AttentionGrad a) {
        return new MaskArgs(a.scale(), a.dropout(), a.salt(), a.window(), a.softcap(), a.alibi(), a.chunk());
    }
}
