"""Generated sections inside hand-written Markdown (models/README.md, model cards): the text between two marker
lines is replaced and everything around it is kept, so a script can refresh its numbers without touching prose."""

from __future__ import annotations

# The measured-table section of a model card (written by trainer export, filled by benchmarks/model_table.py).
CARD_TABLE_BEGIN = "<!-- card-table:begin (written by benchmarks/model_table.py) -->"
CARD_TABLE_END = "<!-- card-table:end -->"


def replace_section(text: str, begin: str, end: str, section: str, *, heading: str = "") -> str:
    """`text` with the part from `begin` to `end` (markers included) replaced by `begin`, `section`, `end`;
    appended (after an optional `heading` line) when the markers are missing."""
    block = f"{begin}\n{section.strip(chr(10))}\n{end}"
    if begin in text and end in text.split(begin, 1)[1]:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    lead = f"{heading}\n\n" if heading else ""
    return text.rstrip("\n") + f"\n\n{lead}{block}\n"
