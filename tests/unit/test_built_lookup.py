"""Locating the host build for `archiver local invoke --built` (no build needed for these)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.local.built import ArtifactMissing, BuiltArtifact


def test_a_missing_host_build_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match="make build-host"):
        BuiltArtifact.from_dir(tmp_path)


def test_the_interpreter_that_built_the_artifact_runs_it(tmp_path: Path) -> None:
    for folder in ("build/ArchiverFunction", "build/ArchiverLayer/python", "runtime"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "interpreter").write_text("/opt/python3.12/bin/python3.12\n")

    artifact = BuiltArtifact.from_dir(tmp_path)

    assert artifact.python == "/opt/python3.12/bin/python3.12"
    assert artifact.paths == [tmp_path / "build/ArchiverFunction", tmp_path / "build/ArchiverLayer/python",
                              tmp_path / "runtime"]
    assert BuiltArtifact.from_dir(tmp_path, python="python3.12").python == "python3.12"
