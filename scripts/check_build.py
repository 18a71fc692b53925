"""Check that `sam build` produced a deployable artifact for Lambda (python3.12, arm64 by default).

Usage: python scripts/check_build.py [--arch arm64|x86_64] [.aws-sam/build]. Exits non-zero with one
line per problem: files missing, compiled modules for another machine, a layer over the size
targets, a module without its python3.12 `.pyc`, or a distribution the layer must not ship.
Reads only the built tree (stdlib only), so it runs with any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

REQUIRED = (
    "template.yaml",
    "ArchiverLayer/python/archiver/__init__.py",
    "ArchiverFunction/app.py",
)
# Compiled dependencies the layer must carry, built for the Lambda's architecture.
COMPILED_PACKAGES = ("lxml", "nh3")
ELF_MACHINES = {"arm64": (0xB7, "aarch64"), "x86_64": (0x3E, "x86_64")}

# The .pyc header of CPython 3.12 (importlib.util.MAGIC_NUMBER), and its flags for "unchecked hash":
# used as is, whatever the source's mtime (Lambda's /opt and /var/task are read-only zips).
PYC_MAGIC_312 = b"\xcb\r\r\n"
PYC_TAG = "cpython-312"
PYC_FLAGS_UNCHECKED_HASH = 0b01

# Distributions the layer must not ship, and why.
FORBIDDEN = {
    "boto3": "the Lambda runtime provides it",
    "botocore": "the Lambda runtime provides it; a second copy shadows the runtime's (24 MB)",
    "s3transfer": "the Lambda runtime provides it",
    "numpy": "52 MB for one dependency; nothing the function imports needs it",
}


class Limits(NamedTuple):
    """Size targets of the built layer, in bytes (decimal MB)."""

    zipped: int = 30_000_000
    unzipped: int = 80_000_000


def elf_machine(path: Path) -> int | None:
    """Return the ELF e_machine field of a shared object, or None if it is not ELF."""
    with path.open("rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byteorder = "little" if header[5] == 1 else "big"
    return int.from_bytes(header[18:20], byteorder)


def wheel_tags(site: Path, package: str) -> list[str]:
    """Return the `Tag:` lines of the installed package's dist-info WHEEL file."""
    for dist_info in site.glob("*.dist-info"):
        name = dist_info.name.split("-")[0].lower().replace("_", "-")
        if name == package.lower():
            wheel = dist_info / "WHEEL"
            if wheel.is_file():
                return [
                    line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")
                ]
    return []


def tree_size(folder: Path) -> int:
    """Bytes of every file under `folder` (what Lambda counts as unzipped size)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def zipped_size(folder: Path) -> int:
    """Bytes of `folder` zipped the way `sam package`/`sam deploy` zips it (deflate)."""
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(folder))
        return archive.tell()


def pyc_problem(module: Path) -> str | None:
    """Why `module` (a .py file) has no usable python3.12 .pyc beside it, or None."""
    pyc = module.parent / "__pycache__" / f"{module.stem}.{PYC_TAG}.pyc"
    if not pyc.is_file():
        return "has no .pyc"
    with pyc.open("rb") as f:
        header = f.read(8)
    if header[:4] != PYC_MAGIC_312:
        return "has a .pyc that is not for Python 3.12"
    if int.from_bytes(header[4:8], "little") != PYC_FLAGS_UNCHECKED_HASH:
        return "has a .pyc checked against the source (compile with --invalidation-mode unchecked-hash)"
    return None


def installed(site: Path) -> set[str]:
    """Normalized names of the distributions installed in `site`."""
    return {d.name.split("-", 1)[0].lower().replace("_", "-") for d in site.glob("*.dist-info")}


TARGETS = Limits()


def check(build_dir: Path, arch: str = "arm64", limits: Limits = TARGETS,
          sizes: tuple[int, int] | None = None) -> list[str]:
    """Return the problems found in a `sam build` output directory (empty when deployable).

    `sizes` (zipped, unzipped) of the layer, when the caller has measured them already.
    """
    problems = [f"missing {build_dir / rel}" for rel in REQUIRED if not (build_dir / rel).is_file()]
    site = build_dir / "ArchiverLayer" / "python"
    if not site.is_dir():
        return [*problems, f"missing {site}"]
    machine_id, machine_name = ELF_MACHINES[arch]

    shared_objects = list(site.rglob("*.so"))
    for so in shared_objects:
        machine = elf_machine(so)
        if machine is not None and machine != machine_id:
            problems.append(f"{so.relative_to(build_dir)} is not {machine_name} (ELF machine {machine:#x})")

    for package in COMPILED_PACKAGES:
        tags = wheel_tags(site, package)
        if not tags:
            problems.append(f"{package} is not installed in the layer")
        elif not all(tag.endswith(machine_name) for tag in tags):
            problems.append(f"{package} wheel is not built for {machine_name}: {', '.join(tags)}")
        if not any(so.relative_to(site).parts[0] == package for so in shared_objects):
            problems.append(f"{package} has no compiled module in the layer")

    for name in sorted(installed(site) & FORBIDDEN.keys()):
        problems.append(f"the layer ships {name}: {FORBIDDEN[name]}")

    for folder in (site, build_dir / "ArchiverFunction"):
        for module in sorted(folder.rglob("*.py")):
            problem = pyc_problem(module)
            if problem:
                problems.append(f"{module.relative_to(build_dir)} {problem}")

    zipped, unzipped = sizes or layer_sizes(build_dir)
    if unzipped > limits.unzipped:
        problems.append(f"the layer is {unzipped / 1e6:.1f} MB unzipped, over {limits.unzipped / 1e6:.0f} MB")
    if zipped > limits.zipped:
        problems.append(f"the layer is {zipped / 1e6:.1f} MB zipped, over {limits.zipped / 1e6:.0f} MB")
    return problems


def layer_sizes(build_dir: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of the built layer."""
    layer = build_dir / "ArchiverLayer"
    return zipped_size(layer), tree_size(layer)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Check a `sam build` output directory.")
    parser.add_argument("build_dir", nargs="?", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--arch", choices=sorted(ELF_MACHINES), default="arm64")
    args = parser.parse_args(argv[1:])
    if not args.build_dir.is_dir():
        print(f"check_build: {args.build_dir} does not exist; run `make build`", file=sys.stderr)
        return 1
    zipped, unzipped = sizes = layer_sizes(args.build_dir) if (args.build_dir / "ArchiverLayer").is_dir() else (0, 0)
    problems = check(args.build_dir, args.arch, sizes=sizes)
    for problem in problems:
        print(f"check_build: {problem}", file=sys.stderr)
    if not problems:
        modules = sum(1 for _ in args.build_dir.rglob("*.py"))
        print(f"check_build: {args.build_dir} passes ({args.arch}; layer {zipped / 1e6:.1f} MB zipped, "
              f"{unzipped / 1e6:.1f} MB unzipped; {modules} modules, each with its python3.12 .pyc)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
