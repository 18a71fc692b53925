"""The `sam build` output is deployable: template, handler, layer package, arm64 compiled wheels.

Reads .aws-sam/build as left by `make build` (which runs the same check); skipped without it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _check_build_module(repo_root: Path):
    spec = importlib.util.spec_from_file_location("check_build", repo_root / "scripts" / "check_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sam_build_output_is_deployable_for_arm64(repo_root: Path):
    build_dir = repo_root / ".aws-sam" / "build"
    if not build_dir.is_dir():
        pytest.skip(f"{build_dir} is absent: run `make build` first")
    assert _check_build_module(repo_root).check(build_dir) == []


def test_x86_shared_object_is_reported(repo_root: Path, tmp_path: Path):
    check_build = _check_build_module(repo_root)
    site = tmp_path / "ArchiverLayer" / "python"
    (site / "lxml").mkdir(parents=True)
    # A minimal little-endian ELF header whose e_machine is x86-64 (0x3e).
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + b"\x3e\x00"
    (site / "lxml" / "etree.cpython-312-x86_64-linux-gnu.so").write_bytes(header)
    problems = check_build.check(tmp_path)
    assert any("is not aarch64" in problem for problem in problems)
    assert any("ArchiverFunction/app.py" in problem for problem in problems)
