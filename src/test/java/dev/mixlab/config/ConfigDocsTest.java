package dev.mixlab.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
    private static final Path DOC = Path.of(ConfigDocs.DOC_PATH);
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9_]+)` \\|");

    @Test
    void everyAcceptedFieldIsDocumentedInItsSection() throws Exception {
        Map<String, Set<String>> documented = parseDoc(Files.readString(DOC));
        for (SectionDoc s : Schema.ALL) {
            Set<String> fields = documented.get(s.title());
            assertTrue(fields != null, "docs/config.md has no section \"## " + s.title() + "\"; regenerate: "
                    + ConfigDocs.REGENERATE);
            for (String name : s.names()) {
                assertTrue(fields.contains(name), "docs/config.md section " + s.title() + " lacks field `" + name
                        + "`; regenerate: " + ConfigDocs.REGENERATE);
            }
        }
    }

    @Test
    void everyBlockTypeHasASection() {
        for (String type : Schema.BLOCK_TYPES) assertTrue(Schema.ALL.contains(Schema.block(type)), type);
    }

    @Test
    void committedDocMatchesGenerator() throws Exception {
        assertEquals(ConfigDocs.markdown(), Files.readString(DOC),
                "docs/config.md is stale; regenerate it from the repository root: " + ConfigDocs.REGENERATE);
    }

    /** @return heading title -> field names in its table */
    private static Map<String, Set<String>> parseDoc(String md) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        Set<String> current = null;
        for (String line : md.lines().toList()) {
            if (line.startsWith("## ")) {
                current = new LinkedHashSet<>();
                out.put(line.substring(3).strip(), current);
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (m.find() && current != null) current.add(m.group(1));
        }
        return out;
    }
}
