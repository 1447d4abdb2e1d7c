package dev.mixlab.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The live line redraws in place on a terminal and leaves no trace in plain (piped) output. */
class StatusLineTest {
    @Test
    void terminalRedrawsInPlaceAndClearsBeforeLogLines() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(b, true, StandardCharsets.UTF_8);
        StatusLine s = new StatusLine(out, true);
        s.update("step 1/10");
        s.update("step 2/10");
        s.clear();
        out.println("step      2/10 | loss 5.0");
        String text = b.toString(StandardCharsets.UTF_8);
        assertEquals("\r\033[2Kstep 1/10\r\033[2Kstep 2/10\r\033[2Kstep      2/10 | loss 5.0" + System.lineSeparator(), text);
    }

    @Test
    void plainOutputGetsNothingButTheLogLines() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(b, true, StandardCharsets.UTF_8);
        StatusLine s = new StatusLine(out, false);
        s.update("step 1/10");
        s.clear();
        out.println("log");
        assertEquals("log" + System.lineSeparator(), b.toString(StandardCharsets.UTF_8));
        assertFalse(s.live());
    }
}
