package dev.mixlab.hf;

import java.util.List;

/**
 * One Hugging Face tensor and the mixlab parameter(s) it holds.
 *
 * @param hf        the Hugging Face tensor name
 * @param mix       the mixlab parameter names; more than one means the HF tensor is their
 *                  concatenation along the output dimension (GPT-2's fused {@code c_attn})
 * @param transpose the HF matrix is stored {@code [in,out]} (GPT-2's Conv1D); mixlab's is {@code [out,in]}
 * @param sliceRows the HF tensor may have more rows than mixlab's (learned positions beyond {@code seq_len})
 */
record Rule(String hf, List<String> mix, boolean transpose, boolean sliceRows) {
    Rule {
        mix = List.copyOf(mix);
    }

    static Rule same(String hf, String mix) {
        return new Rule(hf, List.of(mix), false, false);
    }

    static Rule conv1d(String hf, String... mix) {
        return new Rule(hf, List.of(mix), true, false);
    }
}
