package dev.mixlab.config;

import java.util.List;

/**
 * The fields of one JSON object kind (top level, {@code training}, {@code data}, or one block type).
 *
 * @param title  heading in the generated doc
 * @param intro  one paragraph under the heading
 * @param fields fields in the order they are documented and written
 */
record SectionDoc(String title, String intro, List<FieldDoc> fields) {

    SectionDoc {
        fields = List.copyOf(fields);
    }

    /** @return the field called {@code name}; a binder asking for an undeclared field is a bug */
    FieldDoc field(String name) {
        for (FieldDoc f : fields) if (f.name().equals(name)) return f;
        throw new IllegalStateException("field \"" + name + "\" is not declared in schema section " + title);
    }

    List<String> names() {
        return fields.stream().map(FieldDoc::name).toList();
    }
}
