#!/usr/bin/env python3
"""Run the corpus invariants (tests/corpus/invariants.py) over ../shared/corpus and write docs/corpus.md.

The checks are the ones `tests/corpus/test_corpus_invariants.py` asserts; this script only counts
them per folder and writes the table, the inputs that are not posts, and the known exceptions.
Exits 1 when a post fails an invariant that is not a documented exception.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "archiver"), str(ROOT / "tests" / "corpus")]

import invariants  # noqa: E402  (after the path set-up above)

INTRO = """# Corpus invariants

The real-world corpus is data written by others, collected from public repositories: Jekyll and Hugo
posts, WordPress-to-Jekyll exports, RSS/Atom/RDF and JSON feeds, WordPress WXR exports, WordPress REST
API responses and saved article pages. It lives beside the checkout in `../shared/corpus/` (CI has it;
it is never copied into the project); [MANIFEST.md](../../shared/corpus/MANIFEST.md) says where each
folder comes from, under which license, and what oddities it holds.

`tests/corpus/test_corpus_invariants.py` runs every file of `jekyll/`, `feeds/`, `wxr/` and `wp-json/`,
and every 10th page of `articles/html/*.html.gz` (gunzipped in memory), through the path of
`archiver normalize` (`archiver.pipeline.normalize_input`), and checks every post it gives:

- **schema**: the post is valid against `archiver.schema.post_schema()` (JSON Schema 2020-12);
- **title**: `title` is not empty, or a warning beginning "no title" says why;
- **paragraphs** (front matter, WXR, REST and feed inputs): every text paragraph of the source body is
  in `text`. The source paragraphs are derived independently of the normalizer: the raw body is parsed
  with lxml (Markdown rendered first, as the normalizer renders it) and the text of each `<p>`, `<li>`,
  heading and blockquote is taken, or, for bodies with no `<p>`, of each blank-line separated chunk.
  Only what the archive removes on purpose is taken away first: WordPress shortcodes
  (`clean_html.SHORTCODE_NAMES`), Liquid and Hugo template tags (the text of `{% raw %}` blocks stays),
  the boilerplate of `clean_html.BOILERPLATE`, elements dropped with their content
  (`clean_html.DROPPED_WITH_CONTENT`: scripts, styles, iframes, ...) and HTML comments. A paragraph is
  missing when its whitespace-normalized text is not a substring of the whitespace-normalized `text`,
  neither as written nor, for text that is UTF-8 decoded twice, as `ftfy.fix_encoding` repairs it (the
  archive repairs it too);
- **unsafe_html**: `content_html` holds no shortcode (outside `<pre>`/`<code>`, where brackets are
  code), no `<script`, `<style` or `<iframe`, no `on...=` event handler attribute and no `javascript:`
  URL;
- **date**: `published_at` is set, or the raw value is kept with a warning naming the date problem, or
  the source has no date at all (no date-like key in its metadata, no date in a Jekyll file name):
  allowed, and counted as "no date in source".

Inputs that are not posts (feeds without entries, WordPress user objects, a section page, ...) must
fail with a clear error; they are counted apart, by error code. An input that is a post and fails is a
failure. The test fails listing the first 20 failures, unless a failure is one of the known exceptions
below (`KNOWN_EXCEPTIONS` in `tests/corpus/invariants.py`, each with its reason).

## How to run

```sh
make corpus                                        # both lines below: the report, then the test
.venv/bin/python scripts/corpus_report.py          # rewrite this file (exits 1 on a failure)
.venv/bin/python -m pytest -q tests/corpus/test_corpus_invariants.py
```

Both take about 10 seconds. The test is part of the whole suite and is skipped, saying so, when
`../shared/corpus` is absent.
"""


def render(results: list[invariants.FileResult]) -> str:
    stats = invariants.summarize(results)
    lines = [INTRO, "## Results", "",
             "Pass rate: the share of posts that keep every invariant. `not posts` are inputs that are not "
             "posts and fail with the error code shown; `no date in source` posts pass (their source has no "
             "date to read).", "",
             "| folder | files | posts | pass rate | failures | exceptions | not posts (clear error) "
             "| no date in source |",
             "|---|---:|---:|---:|---|---|---|---:|"]
    for folder in invariants.FOLDERS:
        s = stats.get(folder)
        if s is None:
            continue
        failures = dict(s.failures) | ({"error": s.errors} if s.errors else {})
        lines.append(
            f"| `{folder}/`{' (every 10th page)' if folder == 'articles' else ''} | {s.files} | {s.posts} "
            f"| {s.pass_rate:.1%} | {_counts(failures) or '—'} | {_counts(s.excepted) or '—'} "
            f"| {sum(s.not_posts.values())}: {_counts(s.not_posts) or '—'} | {s.no_date_in_source} |"
        )
    lines += ["", "## Known exceptions", ""]
    if not invariants.KNOWN_EXCEPTIONS:
        lines.append("None.")
    for (file, invariant), reason in invariants.KNOWN_EXCEPTIONS.items():
        lines.append(f"- `{file}` ({invariant}): {reason}.")
    lines += ["", "## Inputs that are not posts", "",
              "Recognised from their bytes by `invariants.holds_posts` (a feed entry or JSON item with a title "
              "or content is a post; WordPress items of internal types and user objects are not), plus these "
              "files that nothing in their bytes marks (`NOT_POSTS`):", ""]
    for file, reason in invariants.NOT_POSTS.items():
        lines.append(f"- `{file}`: {reason}.")
    failures = [f for r in results for f in r.failures()]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- `{file}` [{invariant}] {detail}" for file, invariant, detail in failures]
    return "\n".join(lines) + "\n"


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items()) if n)


def _kept_sections(doc: Path) -> str:
    """The real-world section that scripts/realworld.py owns in the same file, kept as it is."""
    text = doc.read_text("utf-8") if doc.exists() else ""
    start = text.find("<!-- realworld:begin")
    end = text.find("<!-- realworld:end -->")
    if start < 0 or end < 0:
        return ""
    return "\n" + text[start : end + len("<!-- realworld:end -->")] + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=invariants.CORPUS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "corpus.md")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    results = invariants.run(corpus=args.corpus)
    args.out.write_text(render(results) + _kept_sections(args.out), "utf-8")
    failures = [f for r in results for f in r.failures()]
    for file, invariant, detail in failures[:20]:
        print(f"{file} [{invariant}] {detail}", file=sys.stderr)
    print(f"wrote {args.out}; {len(failures)} failures", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
