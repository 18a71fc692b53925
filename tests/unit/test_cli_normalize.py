"""`archiver normalize`: JSON Lines on stdout, one-line errors on stderr, no AWS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from archiver.cli import main
from archiver.config import Settings
from archiver.schema import post_schema

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"


def test_seed_prints_exactly_one_schema_valid_document(seed_dir: Path, capsys) -> None:
    seed = next(seed_dir.iterdir())
    assert main(["normalize", str(seed)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    document = json.loads(lines[0])
    jsonschema.Draft202012Validator(post_schema()).validate(document)
    assert document["schema_version"] == 1
    assert document["title"] == "Gloom at Syria talks as Russia backs government advance"


def test_every_bundled_sample_validates(capsys) -> None:
    samples = sorted(SAMPLES.iterdir())
    assert main(["normalize", *map(str, samples)]) == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) == len(samples)
    validator = jsonschema.Draft202012Validator(post_schema())
    for document in documents:
        validator.validate(document)


def test_unreadable_inputs_are_reported_and_the_rest_still_processed(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad post.md"
    bad.write_text("---\ntitle: never closed\n")
    missing = tmp_path / "missing.md"
    good = SAMPLES / "newswire-harbour-strike.txt"

    status = main(["normalize", str(bad), str(good), str(missing)])

    out, err = capsys.readouterr()
    assert status == 1
    assert len(out.splitlines()) == 1 and json.loads(out)["title"].startswith("Harbour workers strike")
    errors = err.splitlines()
    assert len(errors) == 2
    assert str(bad) in errors[0] and "never closed" in errors[0]
    assert str(missing) in errors[1] and "No such file" in errors[1]


def test_unknown_format_is_reported(tmp_path: Path, capsys) -> None:
    blob = tmp_path / "image.bin"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert main(["normalize", str(blob)]) == 1
    assert "unsupported_format" in capsys.readouterr().err


def test_python_dash_m_archiver_works() -> None:
    sample = SAMPLES / "newswire-harbour-strike.txt"
    result = subprocess.run([sys.executable, "-m", "archiver", "normalize", str(sample)],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["id"]


def test_an_input_over_the_ingest_size_limit_is_refused(tmp_path: Path, capsys) -> None:
    """The limit the inbox applies (MAX_INPUT_BYTES, 200 MiB by default), so that `normalize` never reads
    whole what the archive would refuse: a sparse file one byte over it, whose head looks like a JSON Feed."""
    limit = Settings().max_input_bytes
    feed = tmp_path / "feed.json"
    with feed.open("wb") as out:
        out.write(b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [')
        out.truncate(limit + 1)  # a hole: no disk space taken

    assert main(["normalize", str(feed)]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"archiver: {feed}: input_too_large (read): {limit + 1} bytes is over the "
                                f"{limit}-byte limit"]


def test_the_size_limit_is_the_configured_one(tmp_path: Path, capsys, monkeypatch) -> None:
    post = SAMPLES / "newswire-harbour-strike.txt"
    size = post.stat().st_size
    monkeypatch.setenv("MAX_INPUT_BYTES", str(size))
    assert main(["normalize", str(post)]) == 0

    monkeypatch.setenv("MAX_INPUT_BYTES", str(size - 1))
    assert main(["normalize", str(post), "--timezone", "UTC"]) == 1
    assert main(["copies", str(post)]) == 1

    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1  # the first run's post only
    assert err.count("input_too_large (read)") == 2
