"""Free text as entered: kept as typed, except characters that change how other text is shown.

Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder the
characters displayed after them, so a listing or an export can show something other than what
is stored ("Trojan Source", Unicode TR #36 section 2; UAX #9 section 2); control characters other
than tab and line breaks have no place in a clinical text. Marks that free text in right-to-left
scripts needs (U+200E, U+200F) and joiners (U+200C, U+200D) stay allowed (docs/audit.md §7).
"""

from __future__ import annotations

import unicodedata

DISPLAY_REORDERING = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
)
ALLOWED_CONTROLS = frozenset("\t\n\r")


def refused_characters(text: str) -> list[str]:
    """The code points (as U+XXXX) a free-text field refuses, in order of first appearance."""
    found: list[str] = []
    for ch in text:
        bad = ch in DISPLAY_REORDERING or (
            unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS
        )
        code = f"U+{ord(ch):04X}"
        if bad and code not in found:
            found.append(code)
    return found


def free_text_problem(text: str | None, label: str) -> str | None:
    """The message for a free-text field holding refused characters, or None."""
    found = refused_characters(text or "")
    if not found:
        return None
    return (
        f"{label} holds characters that change how text is displayed or are control characters "
        f"({', '.join(found)}): remove them."
    )
