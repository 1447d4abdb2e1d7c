package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SuggestTest {
    @Test
    void distanceCountsAdjacentSwapsAsOne() {
        assertEquals(1, Suggest.distance("modle_dim", "model_dim"));
        assertEquals(3, Suggest.distance("kitten", "sitting"));
        assertEquals(0, Suggest.distance("", ""));
    }

    @Test
    void nearOnlySuggestsPlausibleTypos() {
        Map<String, String> keys = Map.of("lr", "lr", "learning_rate", "lr", "seed", "seed");
        assertEquals("lr", Suggest.near("lerning_rate", keys));
        assertEquals("seed", Suggest.near("sed", keys));
        assertNull(Suggest.near("x", keys));
        assertNull(Suggest.near("completely_different", keys));
    }

    @Test
    void closestAlwaysAnswers() {
        assertEquals("rmsnorm", Suggest.closest("RMSNorm", List.of("layernorm", "rmsnorm")));
    }
}
