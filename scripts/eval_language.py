#!/usr/bin/env python3
"""Language detection accuracy on the corpus: the posts whose source declares a language.

Every corpus input (article pages, feeds, WordPress exports and REST JSON, Jekyll/Hugo posts) is
parsed and normalized by the archiver; a post whose source declared its language (`<html lang>`,
`<meta>`, a feed's `language`, front matter `lang`) is a sample: the normalized `text` and the
declared primary subtag (`en-US` -> `en`). Each detector guesses from the same text the normalizer
would hand it (at least MIN_LANGUAGE_TEXT characters, the first LANGUAGE_SAMPLE of them); the score
is the share of samples whose guess equals the declared subtag. Declarations are sometimes wrong
(an English template on a German page), so no detector reaches 1.0; the comparison is what counts.

Detectors: `archiver` (what `archiver.normalize.detect_language` uses now) and, where installed,
`py3langid` (the detector before, needs numpy), `gcld3` and `eld`. Writes a table into
docs/evaluation.md with --out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from docs_section import EVALUATION_TITLE, write_section  # scripts/ is on a script's path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "archiver"))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SECTION = "## Language detection"
_PRIMARY = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]|$)")


def primary_subtag(tag: str | None) -> str | None:
    """`en-US` -> `en`; None for anything that is not a language tag."""
    match = _PRIMARY.match((tag or "").strip())
    return match.group(1).lower() if match else None


def corpus_inputs(corpus: Path) -> Iterator[tuple[str, str, bytes]]:
    """(group, name, bytes) of every corpus input that may declare a language."""
    for page in sorted((corpus / "articles" / "html").glob("*.html.gz")):
        yield "articles", page.name, gzip.decompress(page.read_bytes())
    for page in sorted((corpus / "articles" / "trafilatura" / "html").glob("*.gz")):
        yield "articles", page.name, gzip.decompress(page.read_bytes())
    for group in ("feeds", "wxr", "wp-json", "jekyll"):
        for path in sorted((corpus / group).iterdir()):
            if path.is_file():
                yield group, path.name, path.read_bytes()


def samples(corpus: Path, limit: int | None) -> list[dict[str, str]]:
    """Declared language and normalized text of every post that declares one."""
    from archiver import formats
    from archiver.errors import ArchiverError
    from archiver.model import Input, Origin
    from archiver.normalize import LANGUAGE_SAMPLE, MIN_LANGUAGE_TEXT, normalize

    found = []
    for count, (group, name, data) in enumerate(corpus_inputs(corpus)):
        if limit is not None and count >= limit:
            break
        item = Input(data=data, name=name, origin=Origin(kind="file", uri=name))
        try:
            raw_posts = formats.parse(item)
        except ArchiverError:
            continue
        for raw in raw_posts:
            declared = primary_subtag(raw.language)
            if not declared:
                continue
            # The declared language is kept, so the normalizer does not guess: only the text is wanted.
            post = normalize(replace(raw, language=raw.language), item.origin)
            if len(post.text) >= MIN_LANGUAGE_TEXT:
                found.append({"group": group, "name": name, "declared": declared,
                              "text": post.text[:LANGUAGE_SAMPLE]})
    return found


def detectors() -> dict[str, Callable[[str], str | None]]:
    """name -> guess(text), for the detectors that can be imported here."""
    from archiver.language import guess

    found: dict[str, Callable[[str], str | None]] = {"archiver": guess}
    try:
        import py3langid

        found["py3langid"] = lambda text: py3langid.classify(text)[0]
    except ImportError:
        pass
    try:
        import gcld3

        identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1 << 20)
        found["gcld3"] = lambda text: primary_subtag(identifier.FindLanguage(text=text).language)
    except ImportError:
        pass
    try:
        from eld import LanguageDetector

        eld_detector = LanguageDetector()
        found["eld"] = lambda text: eld_detector.detect(text).language or None
    except ImportError:
        pass
    return found


# Codes that name one language in two ways (old ISO codes some detectors still return).
_SAME = {"iw": "he", "jw": "jv", "in": "id", "nb": "no", "nn": "no", "fil": "tl"}


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and _SAME.get(a, a) == _SAME.get(b, b)


def evaluate(found: list[dict[str, str]], guessers: dict[str, Callable[[str], str | None]]) -> dict[str, dict]:
    results = {}
    for name, guess in guessers.items():
        start = time.perf_counter()
        guesses = [guess(sample["text"]) for sample in found]
        elapsed = time.perf_counter() - start
        correct = [_same(g, s["declared"]) for g, s in zip(guesses, found, strict=True)]
        by_group = Counter(s["group"] for s in found)
        group_correct = Counter(s["group"] for s, ok in zip(found, correct, strict=True) if ok)
        results[name] = {
            "accuracy": sum(correct) / max(1, len(found)),
            "wrong": sum(g is not None and not ok for g, ok in zip(guesses, correct, strict=True)),
            "unknown": sum(g is None for g in guesses),
            "groups": {group: group_correct[group] / by_group[group] for group in by_group},
            "ms_per_text": 1000 * elapsed / max(1, len(found)),
            "guesses": guesses,
        }
    return results


def first_call_ms(name: str) -> float:
    """Import and first guess in a fresh interpreter: what the first post without a language pays."""
    import subprocess

    code = {
        "archiver": "from archiver.language import guess as g",
        "py3langid": "import py3langid; g = lambda t: py3langid.classify(t)[0]",
        "gcld3": "import gcld3; i = gcld3.NNetLanguageIdentifier(0, 1 << 20); g = lambda t: i.FindLanguage(text=t)",
        "eld": "from eld import LanguageDetector; d = LanguageDetector(); g = d.detect",
    }[name]
    script = (f"import sys, time; sys.path[:0] = {sys.path[:1]!r}; t = time.perf_counter(); {code}; "
              "g('Dies ist ein kurzer deutscher Satz, der erkannt werden soll.'); "
              "print((time.perf_counter() - t) * 1000)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def table(found: list[dict[str, str]], results: dict[str, dict], first_ms: dict[str, float]) -> str:
    groups = sorted(Counter(s["group"] for s in found).items())
    head = ("| detector | accuracy | wrong | no answer | " + " | ".join(f"{g} ({n})" for g, n in groups)
            + " | ms/text | first call ms |")
    rule = "|---|---:|---:|---:|" + "---:|" * len(groups) + "---:|---:|"
    rows = [head, rule]
    for name, result in results.items():
        cells = " | ".join(f"{result['groups'][g]:.3f}" for g, _ in groups)
        rows.append(f"| {name} | **{result['accuracy']:.3f}** | {result['wrong']} | {result['unknown']} | {cells} | "
                    f"{result['ms_per_text']:.2f} | {first_ms.get(name, float('nan')):.0f} |")
    return "\n".join(rows)


def agreement(results: dict[str, dict], a: str, b: str) -> float:
    pairs = list(zip(results[a]["guesses"], results[b]["guesses"], strict=True))
    return sum(_same(x, y) for x, y in pairs) / max(1, len(pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, help="read at most this many corpus inputs")
    parser.add_argument("--out", type=Path, help="write the table into this markdown file")
    parser.add_argument("--samples", type=Path, metavar="JSON",
                        help="reuse the samples saved in this file (parsing the corpus takes minutes), else save them")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"eval_language: no corpus at {args.corpus}", file=sys.stderr)
        return 1
    if args.samples and args.samples.is_file():
        found = json.loads(args.samples.read_text("utf-8"))
    else:
        found = samples(args.corpus, args.limit)
        if args.samples:
            args.samples.write_text(json.dumps(found, ensure_ascii=False), "utf-8")
    guessers = detectors()
    results = evaluate(found, guessers)
    first_ms = {name: first_call_ms(name) for name in guessers}
    rendered = table(found, results, first_ms)
    print(rendered)
    for other in results:
        if other != "archiver":
            print(f"agreement archiver vs {other}: {agreement(results, 'archiver', other):.3f}")
    declared = Counter(s["declared"] for s in found).most_common(12)
    print("declared languages:", ", ".join(f"{lang} {n}" for lang, n in declared))
    if args.out:
        write_section(args.out, SECTION, "\n".join([
            SECTION, "",
            f"{len(found)} corpus posts whose source declares a language (`<html lang>`, `<meta>`, a feed's or "
            "front matter's `language`), normalized by the archiver; each detector guesses from the text the "
            "normalizer hands it (the first 5,000 characters, posts of 40 characters or more). Accuracy is the "
            "share of guesses equal to the declared primary subtag (`en-US` -> `en`); declarations are sometimes "
            "wrong, so the comparison between detectors is what counts. `first call ms`: import and first guess "
            "in a fresh interpreter (the surcharge of the first post without a declared language); both timings "
            f"wall clock, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} shared cores. "
            "`archiver` is `archiver.language.guess`: CLD3 (`cld3-py` 3.1.0), no answer when CLD3 marks its "
            "guess unreliable or the text has no letters. `py3langid` 0.4.0 is the detector used before (numpy, "
            "52 MB of the layer, and a 68 MB model loaded by the first guess); `gcld3` is CLD3 always answering; "
            "`eld` 1.0.6 is a pure-Python n-gram detector (8 MB of data modules, loaded by the first guess). "
            "The last three are measured when installed (they are not dependencies).", "",
            rendered, "",
            "Declared languages: " + ", ".join(f"{lang} {n}" for lang, n in declared) + ".", "",
            "Regenerate with `make eval-language` (with `pip install py3langid==0.4.0 eld==1.0.6` for their "
            "columns).",
        ]), title=EVALUATION_TITLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
