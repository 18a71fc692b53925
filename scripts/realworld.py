#!/usr/bin/env python3
"""Score `archiver normalize`'s library path on the real-world files of tests/realworld against their
expected answers (tests/realworld/expected.json, decided by reading each file), and feedparser beside it.

Per file: posts found vs expected (a file that holds no post must fail with an ArchiverError), and any
other exception is a traceback. Per expected post, matched to an archived post (by order when the counts
agree, else by title first): the title is exact (whitespace collapsed), the date is right (the same
instant when the source names a zone, the same wall-clock time when it does not, the same day for a
date without time; no date when the source has none), body completeness is the share of the post's
expected body paragraphs (up to 6, each up to 160 characters, see realworld_expect.py) found in `text`
(whitespace and Unicode NFKC normalised), and junk is template syntax, shortcodes or front-matter
lines left in the text outside code. A missing post scores 0 everywhere. Feeds are also read with
feedparser in the same run: its entry count and titles against the same expectations.

Files whose license does not allow committing them are read from the folder given with --local
(absent: they are listed as not scored). The table is written into docs/corpus.md between markers,
the rest of that file untouched.

    .venv/bin/python scripts/realworld.py --local out/realworld-local [--out docs/corpus.md]
"""

from __future__ import annotations

import argparse
import html
import json
import posixpath
import re
import sys
import traceback
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "archiver"))

from archiver.errors import ArchiverError  # noqa: E402
from archiver.model import Input, Origin  # noqa: E402
from archiver.pipeline import normalize_input  # noqa: E402

REALWORLD = ROOT / "tests" / "realworld"
BEGIN = "<!-- realworld:begin (scripts/realworld.py writes this section) -->"
END = "<!-- realworld:end -->"
TARGETS = {"tracebacks": 0, "counts": 0.98, "titles": 0.97, "dates": 0.98, "body": 0.99}
_JUNK = re.compile(
    r"\{%.*?%\}|\{\{.*?\}\}|\{\{[<%]|\[/?(?:caption|gallery|embed|youtube|vimeo|audio|video|tweet_box|ad_\d|"
    r"playlist|soundcloud)\b[^\]]*\]|^(?:---|\+\+\+)$|^(?:title|date|layout|tags|categories|permalink|draft):\s|"
    r"^(?:Title|Date|Tags|Category|Slug|Author|Authors|Summary|Status):\s|^:(?:date|tags|category|slug|authors?"
    r"|summary|title):", re.M | re.S)
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", html.unescape(text or "")).split())


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def date_right(expected: str | None, actual: str | None) -> bool:
    if expected is None:
        return actual is None
    got = parse_iso(actual)
    if got is None:
        return False
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", expected):
        return got.date().isoformat() == expected
    want = parse_iso(expected)
    if want is None:
        return False
    got, want = got.replace(microsecond=0), want.replace(microsecond=0)  # to the second, as feeds are read
    if want.tzinfo is None:  # the source names no zone: the wall-clock time must be kept
        return got.replace(tzinfo=None) == want
    return got == want


def junk_in(content_html: str) -> list[str]:
    visible = html.unescape(_TAG.sub(" ", _CODE.sub(" ", content_html)))
    visible = "\n".join(line.strip() for line in visible.splitlines())
    return [m.group(0)[:40] for m in _JUNK.finditer(visible)]


@dataclass
class FileResult:
    file: str
    kind: str
    expected: int
    found: int = 0
    error: str | None = None
    traceback: str | None = None
    titles: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    bodies: list[float] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feedparser_count: int | None = None
    feedparser_titles: list[bool] = field(default_factory=list)

    @property
    def count_right(self) -> bool:
        if self.traceback:
            return False
        return self.found == self.expected and (self.expected > 0 or self.error is not None)


def match(expected: list[dict[str, Any]], posts: list[Any], title_of: Any) -> list[tuple[dict, Any | None]]:
    """Pair expected posts with archived ones: by order when the counts agree, else titles first."""
    if len(expected) == len(posts):
        return list(zip(expected, posts, strict=True))
    left = list(range(len(posts)))
    pairs: list[tuple[dict, Any | None]] = []
    pending = []
    for want in expected:
        hit = next((i for i in left if want["title"] and norm(title_of(posts[i])) == norm(want["title"])), None)
        if hit is None:
            pending.append(want)
            pairs.append((want, None))
        else:
            left.remove(hit)
            pairs.append((want, posts[hit]))
    for n, (want, got) in enumerate(pairs):
        if got is None and left:
            pairs[n] = (want, posts[left.pop(0)])
    return pairs


def score_file(source: dict[str, Any], expected: dict[str, Any], data: bytes) -> FileResult:
    items = expected["items"]
    result = FileResult(file=source["file"], kind=expected["kind"], expected=len(items))
    name = posixpath.basename(source["path"])
    item = Input(data=data, name=name, origin=Origin(kind="file", uri=f"realworld/{source['file']}"))
    posts: list[Any] = []
    try:
        posts = normalize_input(item, archived_at="2024-01-01T00:00:00+00:00")
    except ArchiverError as exc:
        result.error = f"{exc.code}: {exc.message}"
    except Exception as exc:  # the point of the run: any other exception is a traceback to report
        result.traceback = f"{type(exc).__name__}: {exc}"
        result.notes.append(traceback.format_exc(limit=-3))
    result.found = len(posts)
    for want, got in match(items, posts, lambda p: p.title):
        if want["title"] is not None:
            result.titles.append(got is not None and norm(got.title) == norm(want["title"]))
            if got is not None and norm(got.title) != norm(want["title"]):
                result.notes.append(f"title {got.title!r} != {want['title']!r}")
        result.dates.append(got is not None and date_right(want["published"], got.published_at))
        if got is not None and not result.dates[-1]:
            result.notes.append(f"date {got.published_at} != {want['published']}")
        if want["body"]:
            text = norm(got.text) if got is not None else ""
            found = [norm(s) in text for s in want["body"]]
            result.bodies.append(sum(found) / len(found))
            for snippet, ok in zip(want["body"], found, strict=True):
                if not ok and got is not None:
                    result.notes.append(f"body missing: {snippet[:70]!r}")
        if got is not None:
            result.junk += junk_in(got.content_html)
    if expected["kind"] == "feed":
        import feedparser

        parsed = feedparser.parse(data, sanitize_html=True)
        entries = parsed.get("entries") or []
        result.feedparser_count = len(entries)
        for want, got in match(items, entries, lambda e: e.get("title")):
            if want["title"] is not None:
                result.feedparser_titles.append(got is not None and norm(got.get("title")) == norm(want["title"]))
    return result


def share(values: list[bool] | list[float]) -> float:
    return sum(values) / len(values) if values else 1.0


def group_of(result: FileResult) -> str:
    return {"feed": "feeds", "json": "JSON (feeds, REST, Ghost)", "wxr": "WXR", "blogger": "Blogger",
            "medium": "Medium / h-entry", "export-zip": "export zips", "xml": "other XML"}.get(
        result.kind, "text posts (front matter, Pelican, reST)")


def table(results: list[FileResult], skipped: list[str], sources: list[dict[str, Any]]) -> str:
    groups: dict[str, list[FileResult]] = defaultdict(list)
    for r in results:
        groups[group_of(r)].append(r)
    groups["all"] = results
    repos = {s["repo"] for s in sources if s["counted"] and s["file"] not in skipped}
    lines = [
        "| files | scored | posts expected | posts found | tracebacks | post count right | titles exact | "
        "dates right | body completeness | posts with junk |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        titles = [t for r in rs for t in r.titles]
        dates = [d for r in rs for d in r.dates]
        bodies = [b for r in rs for b in r.bodies]
        junky = sum(1 for r in rs if r.junk)
        label = f"**{name}**" if name == "all" else name
        lines.append(
            f"| {label} | {len(rs)} | {sum(r.expected for r in rs)} | {sum(r.found for r in rs)} | "
            f"{sum(1 for r in rs if r.traceback)} | {share([r.count_right for r in rs]):.1%} | "
            f"{share(titles):.1%} | {share(dates):.1%} | {share(bodies):.3f} | {junky} |")
    feeds = [r for r in results if r.feedparser_count is not None]
    fp_counts = share([r.feedparser_count == r.expected for r in feeds])
    fp_titles = share([t for r in feeds for t in r.feedparser_titles])
    our_counts = share([r.count_right for r in feeds])
    our_titles = share([t for r in feeds for t in r.titles])
    lines += [
        "",
        f"Feeds, same run ({len(feeds)} files): post count right — archiver {our_counts:.1%}, feedparser "
        f"{fp_counts:.1%}; titles exact — archiver {our_titles:.1%}, feedparser {fp_titles:.1%}.",
        "",
        f"{len(results)} files scored from {len(repos)} repositories not used by `../shared/corpus` "
        f"(plus TryGhost/migrate's export fixtures, counted apart); {len(skipped)} not scored "
        "(their license keeps them out of the repository and no `--local` folder held them).",
    ]
    return "\n".join(lines)


def failures(results: list[FileResult]) -> str:
    out = []
    for r in results:
        problems = []
        if r.traceback:
            problems.append(f"traceback {r.traceback}")
        if not r.count_right:
            problems.append(f"posts {r.found}/{r.expected}" + (f" ({r.error})" if r.error else ""))
        problems += [n for n in r.notes if not n.startswith("Traceback")][:4]
        if r.junk:
            problems.append(f"junk {sorted(set(r.junk))[:3]}")
        if problems:
            out.append(f"- `{r.file}`: " + "; ".join(p.replace("|", "\\|").replace("\n", " ") for p in problems))
    return "\n".join(out) or "- none"


def write_section(doc: Path, body: str) -> None:
    text = doc.read_text() if doc.exists() else ""
    section = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", type=Path, help="folder of the files not committed (see tests/realworld/SOURCES.md)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "corpus.md")
    parser.add_argument("--details", type=Path, help="also write every failing file's findings here (Markdown)")
    args = parser.parse_args()
    sources = json.loads((REALWORLD / "sources.json").read_text())
    expected = json.loads((REALWORLD / "expected.json").read_text())
    results, skipped = [], []
    for source in sources:
        folder = REALWORLD / "files" if source["committed"] else args.local
        path = folder / source["file"] if folder else None
        if path is None or not path.is_file():
            skipped.append(source["file"])
            continue
        results.append(score_file(source, expected[source["file"]], path.read_bytes()))
    summary = table(results, skipped, sources)
    body = "\n".join([
        "## Real-world run (`make realworld`)",
        "",
        "Files collected from public repositories that `../shared/corpus` does not use (blog sources, static-site",
        "generators' and feed parsers' test suites, importer fixtures), each with its expected answer decided by",
        "reading it: [tests/realworld/](../tests/realworld/SOURCES.md) lists source, commit and license, and which",
        "files stay out of the repository (scored from `--local`). Scoring is defined in `scripts/realworld.py`:",
        "post counts per file, exact titles, dates, body completeness (share of each post's expected paragraphs",
        "found in `text`), junk left in the text (template tags, shortcodes, front-matter lines outside code),",
        "tracebacks. Targets: 0 tracebacks, counts ≥ 98 %, titles ≥ 97 %, dates ≥ 98 %, body ≥ 0.99, feeds at",
        "least as good as feedparser.",
        "",
        summary,
    ])
    write_section(args.out, body)
    if args.details:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        args.details.write_text("# Real-world run: findings per file\n\n" + failures(results) + "\n")
    print(summary)
    return 1 if any(r.traceback for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
