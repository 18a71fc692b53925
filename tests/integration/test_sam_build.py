"""The `sam build` output is deployable: template, handler, layer package, arm64 compiled wheels,
a python3.12 `.pyc` beside every module, no runtime-provided SDK, and a layer within its size targets.

Reads .aws-sam/build as left by `make build` and .aws-sam/host/build as left by `make build-host`
(both run the same check); skipped without them.
"""

from __future__ import annotations

import platform
import py_compile
import random
from pathlib import Path

import check_build  # scripts/ (pytest's pythonpath)
import pytest


def test_sam_build_output_is_deployable_for_arm64(repo_root: Path):
    build_dir = repo_root / ".aws-sam" / "build"
    if not build_dir.is_dir():
        pytest.skip(f"{build_dir} is absent: run `make build` first")
    assert check_build.check(build_dir) == []


def test_host_build_output_is_complete_for_this_machine(repo_root: Path):
    build_dir = repo_root / ".aws-sam" / "host" / "build"
    if not build_dir.is_dir():
        pytest.skip(f"{build_dir} is absent: run `make build-host` first")
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"  # as the Makefile's HOST_ARCH
    assert check_build.check(build_dir, arch) == []


def _fake_build(root: Path) -> Path:
    """A minimal build tree that passes every check but the compiled-wheel ones."""
    for rel in ("template.yaml", "ArchiverFunction/app.py", "ArchiverLayer/python/archiver/__init__.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    return root


def _compile(path: Path, mode: py_compile.PycInvalidationMode) -> None:
    """A .pyc for `path` with the 3.12 tag and magic, in the given invalidation mode (any interpreter)."""
    target = path.parent / "__pycache__" / f"{path.stem}.cpython-312.pyc"
    py_compile.compile(str(path), cfile=str(target), invalidation_mode=mode, doraise=True)
    data = bytearray(target.read_bytes())
    data[:4] = b"\xcb\r\r\n"  # Python 3.12's magic, whatever runs this test
    target.write_bytes(bytes(data))


def test_modules_without_an_unchecked_312_pyc_are_reported(tmp_path: Path):
    build = _fake_build(tmp_path)
    _compile(build / "ArchiverFunction" / "app.py", py_compile.PycInvalidationMode.UNCHECKED_HASH)
    _compile(build / "ArchiverLayer/python/archiver/__init__.py", py_compile.PycInvalidationMode.TIMESTAMP)
    (build / "ArchiverLayer/python/archiver/store.py").write_text("y = 2\n")

    problems = check_build.check(build)

    assert not any("app.py" in problem for problem in problems)
    assert any("archiver/__init__.py has a .pyc checked against the source" in problem for problem in problems)
    assert any("archiver/store.py has no .pyc" in problem for problem in problems)


def test_a_layer_over_the_size_targets_is_reported(tmp_path: Path):
    build = _fake_build(tmp_path)
    (build / "ArchiverLayer/python/data.bin").write_bytes(random.Random(9).randbytes(600_000))  # incompressible

    problems = check_build.check(build, limits=check_build.Limits(zipped=50_000, unzipped=500_000))
    assert any("MB unzipped, over" in problem for problem in problems)
    assert any("MB zipped, over" in problem for problem in problems)
    assert not [p for p in check_build.check(build) if "MB" in p]  # within the real targets


def test_a_layer_shipping_botocore_or_numpy_is_reported(tmp_path: Path):
    build = _fake_build(tmp_path)
    for dist in ("botocore-1.44.8.dist-info", "numpy-2.5.5.dist-info", "lxml-6.1.3.dist-info"):
        (build / "ArchiverLayer/python" / dist).mkdir()

    problems = check_build.check(build)

    assert any(problem.startswith("the layer ships botocore") for problem in problems)
    assert any(problem.startswith("the layer ships numpy") for problem in problems)
    assert not any("ships lxml" in problem for problem in problems)


def test_x86_shared_object_is_reported(tmp_path: Path):
    site = tmp_path / "ArchiverLayer" / "python"
    (site / "lxml").mkdir(parents=True)
    # A minimal little-endian ELF header whose e_machine is x86-64 (0x3e).
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + b"\x3e\x00"
    (site / "lxml" / "etree.cpython-312-x86_64-linux-gnu.so").write_bytes(header)
    problems = check_build.check(tmp_path)
    assert any("is not aarch64" in problem for problem in problems)
    assert any("ArchiverFunction/app.py" in problem for problem in problems)
