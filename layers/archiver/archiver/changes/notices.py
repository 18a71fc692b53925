"""Notices an editor puts on a post: a retraction, a correction, an editor's note, in several languages.

Phrases of English, German, French, Spanish, Italian, Portuguese and Dutch newsrooms. A notice is reported
with the paragraph that holds it (clipped), so that a notice already on the previous version is told apart
from a new one by its paragraph, not by its phrase: a second "Correction:" is new, the first one kept is not.
"""

from __future__ import annotations

import re
from typing import Literal

NoticeKind = Literal["retraction", "correction", "editors_note"]
NOTICE_CHARS = 200  # of the paragraph kept with a notice
_FLAGS = re.IGNORECASE | re.MULTILINE

# "<this article> ... has been <retracted>": the subject, up to 40 characters of the same sentence, the verb.
_SUBJECT_VERB = [
    (r"\b(?:this|the)\s+(?:article|story|post|blog post|piece|report|page|item)",
     r"(?:has|have|had)\s+been|was|is", r"(?:retracted|removed|withdrawn|taken\s+down|unpublished|deleted|pulled)"),
    (r"\b(?:dieser|der)\s+(?:artikel|beitrag|text|bericht)", r"wurde|ist",
     r"(?:zurückgezogen|entfernt|gelöscht|depubliziert)"),
    (r"\b(?:cet|l['\u2019])\s*(?:article|billet)", r"a\s+été", r"(?:retiré|supprimé|rétracté|dépublié)e?"),
    (r"\b(?:este|el)\s+(?:artículo|articulo|texto|post)", r"ha\s+sido|fue", r"(?:retirado|eliminado|retractado)"),
    (r"\b(?:questo|l['\u2019])\s*(?:articolo|post)", r"è\s+stato", r"(?:ritirato|rimosso|eliminato)"),
    (r"\b(?:este|o)\s+(?:artigo|texto|post)", r"foi", r"(?:retirado|removido|retratado|despublicado)"),
    (r"\b(?:dit|het)\s+(?:artikel|bericht|stuk)", r"is|werd", r"(?:ingetrokken|teruggetrokken|verwijderd)"),
]
# "Retracted:" or "[Retracted]" opening a title or a paragraph.
_RETRACTED_WORDS = (r"(?:retraction|retracted|withdrawn|zurückgezogen|rétractation|retractación|ritrattazione"
                    r"|retratação|ingetrokken)\b")
_RETRACTION = re.compile(
    "|".join(f"{subject}[^.!?\\n]{{0,40}}?\\b(?:{verb})\\b[^.!?\\n]{{0,20}}?\\b{done}\\b"
             for subject, verb, done in _SUBJECT_VERB)
    + rf"|^\s*(?:[\[(]\s*{_RETRACTED_WORDS}\s*[\])]|{_RETRACTED_WORDS}\s*[:\-\u2013\u2014])",
    _FLAGS)
# "Correction:" (or "Correction (May 3):") opening a paragraph, and "An earlier version of this article ...".
_CORRECTION = re.compile(
    r"^\s*(?:correction|clarification|korrektur|berichtigung|richtigstellung|rectificatif|rectification"
    r"|corrección|correccion|fe de erratas|correzione|rettifica|correção|correcao|errata|correctie|rectificatie)"
    r"\s*(?:\([^)\n]{0,40}\))?\s*:"
    r"|\ban earlier version of this (?:article|story|post|report)\b",
    _FLAGS)
_EDITORS_NOTE = re.compile(
    r"\beditor['\u2019]?s['\u2019]?\s+note\b|\bnote from the editors?\b|\b(?:anmerkung|hinweis) der redaktion\b"
    r"|\bnote de la rédaction\b|\bnota (?:del editor|de la redacción|de los editores)\b|\bnota della redazione\b"
    r"|\bnota (?:do editor|da redação)\b|\bnoot van de redactie\b",
    _FLAGS)
_KINDS: list[tuple[NoticeKind, re.Pattern[str]]] = [
    ("retraction", _RETRACTION), ("correction", _CORRECTION), ("editors_note", _EDITORS_NOTE)]
_PARAGRAPH_END = re.compile(r"\n\s*\n")


def find_notices(text: str, title: str = "") -> list[tuple[NoticeKind, str]]:
    """Each notice in a post's title and text: (kind, its paragraph clipped to NOTICE_CHARS), in order, once."""
    found: list[tuple[NoticeKind, str]] = []
    for part in (title or "", text or ""):
        for kind, pattern in _KINDS:
            for match in pattern.finditer(part):
                notice = (kind, _paragraph(part, match.start()))
                if notice not in found:
                    found.append(notice)
    return found


def _paragraph(text: str, at: int) -> str:
    """The paragraph around position `at`, on one line, clipped."""
    while at < len(text) and text[at].isspace():  # a match that starts with the blank line before its paragraph
        at += 1
    starts = [m.end() for m in _PARAGRAPH_END.finditer(text, 0, at)]
    start = starts[-1] if starts else 0
    end_match = _PARAGRAPH_END.search(text, at)
    paragraph = " ".join(text[start:end_match.start() if end_match else len(text)].split())
    return paragraph[:NOTICE_CHARS] + ("…" if len(paragraph) > NOTICE_CHARS else "")
