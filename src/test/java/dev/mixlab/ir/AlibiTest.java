package dev.mixlab.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AlibiTest {
    @Test
    void powerOfTwoHeadsHalveEachHead() {
        assertArrayEquals(new double[] {1 / 2.0, 1 / 4.0, 1 / 8.0, 1 / 16.0, 1 / 32.0, 1 / 64.0, 1 / 128.0, 1 / 256.0},
                Alibi.slopes(8), 0);
        assertArrayEquals(new double[] {1 / 16.0, 1 / 256.0}, Alibi.slopes(2), 0);
        assertArrayEquals(new double[] {1 / 256.0}, Alibi.slopes(1), 0);
        double[] m16 = Alibi.slopes(16);
        for (int h = 0; h < 16; h++) assertEquals(Math.pow(2, -0.5 * (h + 1)), m16[h], 1e-15);
    }

    @Test
    void otherHeadCountsTakeTheLowerPowerThenOddIndexedSlopesOfTwiceIt() {
        // H = 12: the 8 slopes of 8 heads, then slopes 1st, 3rd, 5th, 7th (0-based 0, 2, 4, 6) of 16 heads
        double[] m16 = Alibi.slopes(16);
        double[] expect = new double[12];
        System.arraycopy(Alibi.slopes(8), 0, expect, 0, 8);
        for (int i = 0; i < 4; i++) expect[8 + i] = m16[2 * i];
        assertArrayEquals(expect, Alibi.slopes(12), 0);
        assertArrayEquals(new double[] {Math.pow(2, -0.5), Math.pow(2, -1.5), Math.pow(2, -2.5), Math.pow(2, -3.5)},
                java.util.Arrays.copyOfRange(Alibi.slopes(12), 8, 12), 1e-15);
        // H = 3: 1/16, 1/256, then the first slope of 4 heads, 1/4
        assertArrayEquals(new double[] {1 / 16.0, 1 / 256.0, 1 / 4.0}, Alibi.slopes(3), 0);
        // H = 6: 4 heads' slopes 1/4 .. 1/256, then 1/2 and 1/8 from 8 heads
        assertArrayEquals(new double[] {1 / 4.0, 1 / 16.0, 1 / 64.0, 1 / 256.0, 1 / 2.0, 1 / 8.0}, Alibi.slopes(6), 0);
    }

    @Test
    void biasIsMinusSlopeTimesDistance() {
        assertEquals(-3 / 2.0, Alibi.bias(true, 0, 8, 5, 2), 0);
        assertEquals(0, Alibi.bias(true, 3, 8, 4, 4), 0);
        assertEquals(0, Alibi.bias(false, 0, 8, 5, 2), 0);
        assertThrows(IllegalArgumentException.class, () -> Alibi.slope(4, 4));
    }
}
