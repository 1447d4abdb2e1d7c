package dev.mixlab.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The cuBLASLt epilogue chosen for each fold (cublasLtEpilogue_t values from cublasLt.h; no GPU needed). */
class CublasEpilogueTest {
    @Test
    void eachCombinationPicksCublasLtsEpilogue() {
        assertEquals(4, Cublas.Epilogue.of(0x100, false, 0, 0).code(), "bias only: BIAS");
        assertEquals(32, Cublas.Epilogue.of(0, true, 0, 0).code(), "GELU whose input nothing else reads: GELU");
        assertEquals(160, Cublas.Epilogue.of(0, true, 0x200, 1536).code(), "GELU writing its pre-activation: GELU_AUX");
        assertEquals(36, Cublas.Epilogue.of(0x100, true, 0, 0).code(), "bias then GELU: GELU_BIAS");
        assertEquals(164, Cublas.Epilogue.of(0x100, true, 0x200, 1536).code(), "bias, GELU and pre-activation: GELU_AUX_BIAS");
        Cublas.Epilogue e = Cublas.Epilogue.of(0x100, true, 0x200, 1536);
        assertEquals(0x100, e.bias());
        assertEquals(0x200, e.aux());
        assertEquals(1536, e.auxLd());
    }
}
