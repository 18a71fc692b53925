"""Text that was UTF-8, read as Windows-1252 or Latin-1 and encoded again ("â€™" for U+2019).

Feeds written by a misconfigured CMS carry it in some items and not others, so it is repaired per
field, not per file. ftfy decides (it knows the lossy variants: a lost U+00A0 that became "Â ",
cp1252's undefined bytes); a cheap, linear pre-check keeps its import and its passes away from the
text that shows no sign of it.
"""

from __future__ import annotations

import re

# A UTF-8 lead byte (U+00C2-U+00F4 read as Latin-1) followed by a continuation byte as cp1252 or
# Latin-1 shows it (U+0080-U+00BF, or the cp1252 letters and punctuation at 0x80-0x9F); or "Â " (a
# no-break space whose second byte became a space, often the only sign in a paragraph).
_SUSPECT = re.compile(
    "\u00c2 |[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Once a post is known to be double-encoded: "Â" before a space or at the end of a field is what is left
# of a no-break space (C2 A0 read as "Â" + U+00A0, then trimmed or turned into a space).
_LOST_NO_BREAK_SPACE = re.compile("\u00c2(?= |$)")
WARNING = "text repaired: it was UTF-8 read as Windows-1252 and encoded again (mojibake)"


def repair(text: str | None) -> str | None:
    """The text as its author wrote it, when it is UTF-8 decoded twice; else the text unchanged."""
    if not text or not _SUSPECT.search(text):
        return text
    import ftfy  # only text that looks double-encoded pays for this import

    return ftfy.fix_encoding(text)


def repair_lost_no_break_spaces(text: str | None) -> str | None:
    """In a post known to be double-encoded, the "Â" that ftfy leaves where a no-break space was (it
    cannot tell it from a real "Â" without the rest of the post)."""
    return _LOST_NO_BREAK_SPACE.sub("\u00a0", text) if text and "\u00c2" in text else text
