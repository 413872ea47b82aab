"""Generated Markdown sections are replaced between their markers only; missing markers append the section."""

from __future__ import annotations

from inpaint_studio.core.sections import replace_section

B, E = "<!-- b -->", "<!-- e -->"


def test_only_the_text_between_the_markers_changes():
    text = f"# t\n\nprose\n\n{B}\nold\nlines\n{E}\n\nmore prose\n"
    out = replace_section(text, B, E, "new\n")
    assert out == f"# t\n\nprose\n\n{B}\nnew\n{E}\n\nmore prose\n"
    assert replace_section(out, B, E, "newer") == out.replace("new\n", "newer\n")


def test_missing_markers_append_the_section_under_a_heading():
    out = replace_section("# t\n", B, E, "x", heading="## Numbers")
    assert out == f"# t\n\n## Numbers\n\n{B}\nx\n{E}\n"
    assert replace_section(f"{E} before {B} only", B, E, "y").endswith(f"{B}\ny\n{E}\n")
