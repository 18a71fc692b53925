"""Guess the language of a post's text: Google's CLD3 (the `cld3-py` wheels, imported as `gcld3`).

Chosen over py3langid, the detector before: that needs numpy (52 MB of the layer) and loads a
68 MB model on the first post without a language (about 1 s); CLD3 is a 1.4 MB compiled network
that answers in about a millisecond from the first call. On the corpus it gives fewer wrong answers,
because it says when it is unsure and we then answer None; see "Language detection" in
docs/evaluation.md.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import islice
from typing import Any

MAX_BYTES = 20_000  # CLD3 reads at most this many bytes of the text (callers pass a bounded sample)
# CLD3 ignores digits and punctuation, and answers "ja" (reliable!) when nothing else is left.
MIN_LETTERS = 10
# CLD3 still answers with a few retired ISO 639 codes; posts carry today's.
_CURRENT_CODES = {"iw": "he", "jw": "jv", "in": "id", "fil": "tl"}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    import gcld3  # compiled, imports in a few milliseconds; only posts without a language need it

    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=MAX_BYTES)


def guess(text: str) -> str | None:
    """ISO 639-1 code (639-2 where there is none) of the text's language; None when CLD3 is unsure.

    CLD3 marks a guess unreliable below a confidence threshold: mostly short, mixed or name-heavy
    texts, where its guess is more often wrong than right. No language beats a wrong one.
    """
    if sum(1 for _ in islice(filter(str.isalpha, text), MIN_LETTERS)) < MIN_LETTERS:  # stops at MIN_LETTERS
        return None
    result = _identifier().FindLanguage(text=text)
    if result.language == "und" or not result.is_reliable:
        return None
    code = result.language.split("-", 1)[0]  # "ja-Latn": romanized Japanese is still Japanese
    return _CURRENT_CODES.get(code, code)
