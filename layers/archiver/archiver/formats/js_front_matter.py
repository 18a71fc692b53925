"""Eleventy's JavaScript front matter (`---js`): the literal values it declares, without running it.

Eleventy evaluates the block and takes its declared variables (`const title = "A";`) or the object it
consists of (`{ title: "A", date: "2023-01-23" }`) as the page's data. Running publishers' code is not
an option; the literal values (strings, numbers, booleans, null, lists of those) are what posts
declare in practice, and anything computed is skipped and named in a warning.
"""

from __future__ import annotations

import json
import re
from typing import Any

# One declaration or object member per line, as the examples and starters write them.
_DECLARATION = re.compile(r"^[ \t]*(?:export[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=[ \t]*(.*)$")
_MEMBER = re.compile(r"""^[ \t]*([A-Za-z_$][\w$]*|"[^"\n]*"|'[^'\n]*')[ \t]*:[ \t]*(.*)$""")
_SINGLE_QUOTED = re.compile(r"'((?:[^'\\\n]|\\.)*)'")
_KEYWORDS = {"true": True, "false": False, "null": None}


def load(text: str) -> tuple[dict[str, Any], list[str]]:
    """(the literal values the block declares, the names of those skipped as computed)."""
    data: dict[str, Any] = {}
    skipped: list[str] = []
    for line in text.splitlines():
        match = _DECLARATION.match(line) or _MEMBER.match(line)
        if match is None:
            continue
        name = match[1].strip("\"'")
        expression = match[2].strip().rstrip(";,").strip()
        try:
            data[name] = literal(expression)
        except ValueError:
            skipped.append(name)
    return data, skipped


def literal(expression: str) -> Any:
    """The value of a JavaScript literal: a string (quotes or a backtick without `${`), number, boolean,
    null, or a list of those; ValueError for anything else."""
    if expression in _KEYWORDS:
        return _KEYWORDS[expression]
    if len(expression) >= 2 and expression[0] == expression[-1] == "`" and "${" not in expression:
        return expression[1:-1]
    json_text = _SINGLE_QUOTED.sub(lambda m: json.dumps(m[1].replace("\\'", "'")), expression)
    if json_text.startswith("[") and json_text.rstrip().endswith(",]"):
        json_text = json_text.rstrip()[:-2] + "]"
    try:
        value = json.loads(json_text)
    except json.JSONDecodeError:
        raise ValueError(f"not a literal: {expression[:80]!r}") from None
    if isinstance(value, dict):
        raise ValueError("an object")
    return value
