package dev.mixlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.mixlab.config.Config;
import dev.mixlab.ir.Program;
import dev.mixlab.train.Programs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example config in {@code examples/} loads, validates and builds its training step and its
 * decode program, so an example cannot rot when a field or a block changes.
 */
class ExamplesTest {
    static Stream<Path> examples() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("examples"))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(files.isEmpty(), "no examples found");
            return files.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void buildsItsPrograms(Path file) {
        Config c = ConfigFiles.load(file);
        Program step = Programs.trainStep(c, Programs.batch(c));
        assertTrue(step.parameterCount() > 0, file + ": no parameters");
        Program decode = Programs.decode(c, 1, 1);
        assertTrue(decode.outputs().containsKey("logits"), file + ": the decode program has no logits");
    }
}
