"""Write one benchmark's section into a Markdown file, leaving the other sections alone."""

from __future__ import annotations

from pathlib import Path

EVALUATION_TITLE = "# Evaluation"  # docs/evaluation.md, which `make eval` and `make eval-language` write


def write_section(path: Path, heading: str, section: str, *, title: str = "# Benchmarks") -> None:
    """Replace the section that starts with `heading` (up to the next `## `), or append it; a new file
    starts with `title`."""
    text = path.read_text("utf-8") if path.exists() else f"{title}\n"
    section = section.rstrip("\n") + "\n\n"  # one blank line before the next section, however it ends
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    path.write_text(text.rstrip("\n") + "\n", "utf-8")


def publish(section: str, heading: str, out: Path | None) -> None:
    """Print a benchmark's section, and write it into `out` (a Markdown file) when one is given."""
    print(section)
    if out:
        write_section(out, heading, section)
