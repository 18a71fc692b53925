"""WordPress block-editor (Gutenberg) content that WordPress renders at view time, rendered here.

Footnotes (WordPress 6.3+): the text of each note lives in the post meta `footnotes` (a JSON list of
`{"id", "content"}`), the body holds only `<sup data-fn="id">` references and a `<!-- wp:footnotes /-->`
block comment where the list goes. Exports (WXR, REST `content.raw`) carry both halves; put together
here, the notes' text is kept instead of vanishing with the comment.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FOOTNOTES_BLOCK = re.compile(r"<!--\s*wp:footnotes\b[^>]*?/-->", re.IGNORECASE)
_FOOTNOTE_REFERENCE = re.compile(r"\bdata-fn=", re.IGNORECASE)


def with_footnotes(body: str, meta_value: Any) -> tuple[str, list[str]]:
    """The body with its footnotes list where the footnotes block stands (or at the end when only
    references show it has notes); warnings when the meta cannot be read (the raw value stays in the
    post's front matter)."""
    if not meta_value or not (_FOOTNOTES_BLOCK.search(body) or _FOOTNOTE_REFERENCE.search(body)):
        return body, []
    notes = _notes(meta_value)
    if notes is None:
        return body, ["footnotes meta is not the JSON list WordPress writes; notes left in front_matter"]
    if not notes:
        return body, []
    items = "".join(f"<li>{note['content']}</li>" for note in notes)
    rendered = f'<ol class="wp-block-footnotes">{items}</ol>'
    if _FOOTNOTES_BLOCK.search(body):
        return _FOOTNOTES_BLOCK.sub(lambda _: rendered, body, count=1), []
    return f"{body}\n{rendered}", []


def _notes(meta_value: Any) -> list[dict[str, Any]] | None:
    if isinstance(meta_value, list) and len(meta_value) == 1 and isinstance(meta_value[0], str):
        meta_value = meta_value[0]  # one meta row, as WXR postmeta and REST meta give it
    if isinstance(meta_value, str):
        try:
            meta_value = json.loads(meta_value)
        except ValueError:
            return None
    if not isinstance(meta_value, list) or not all(isinstance(note, dict) for note in meta_value):
        return None
    return [note for note in meta_value if note.get("content")]
