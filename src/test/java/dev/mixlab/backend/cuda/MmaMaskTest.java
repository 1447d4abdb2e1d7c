package dev.mixlab.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mixlab.ir.Shape;
import org.junit.jupiter.api.Test;

/**
 * Which tensor-core attention kernels a mask takes ({@link CudaExecutable#mmaMask}): the plain causal
 * ones ("c") hash dropout indices in 32 bits and leave out the window, softcap and ALiBi, so anything
 * else, and any launch whose largest index (b·H + h)·T² + i·T + j reaches 2³², must take the general ones.
 */
class MmaMaskTest {
    private static MaskArgs mask(int window, double softcap, boolean alibi) {
        return new MaskArgs(0.125, 0.2, 7, window, softcap, alibi, 0);
    }

    @Test
    void onlyThePlainCausalMaskTakesTheSpecialisedKernels() {
        Shape q = Shape.of(64, 256, 6, 64);
        assertEquals("c", CudaExecutable.mmaMask(q, 6, mask(0, 0, false)));
        assertEquals("", CudaExecutable.mmaMask(q, 6, mask(128, 0, false)), "a window");
        assertEquals("", CudaExecutable.mmaMask(q, 6, mask(0, 30, false)), "a softcap");
        assertEquals("", CudaExecutable.mmaMask(q, 6, mask(0, 0, true)), "ALiBi");
    }

    @Test
    void dropoutIndicesFrom2To32TakeTheGeneralKernels() {
        // B·H·T² = 2³² exactly: the largest index is 2³² − 1, which still fits, but the check is strict
        // (B·H·T² < 2³²) so that the index one past the end also fits
        assertEquals("", CudaExecutable.mmaMask(Shape.of(16, 4096, 16, 64), 16, mask(0, 0, false)));
        assertEquals("c", CudaExecutable.mmaMask(Shape.of(15, 4096, 16, 64), 16, mask(0, 0, false)));
        // heads counts query heads (the grid's b·H), not the tensor's third dimension
        assertEquals("", CudaExecutable.mmaMask(Shape.of(8, 4096, 16, 64), 32, mask(0, 0, false)));
    }

    @Test
    void aSwitchKeepsTheGeneralKernels() {
        System.setProperty("mixlab.cuda.generalMask", "true");
        try {
            assertEquals("", CudaExecutable.mmaMask(Shape.of(64, 256, 6, 64), 6, mask(0, 0, false)));
        } finally {
            System.clearProperty("mixlab.cuda.generalMask");
        }
    }
}
