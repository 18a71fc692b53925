"""Check that `sam build` produced a deployable artifact for arm64 Lambda (python3.12).

Usage: python scripts/check_build.py [.aws-sam/build]. Exits non-zero with one line per problem.
Reads only the built tree (stdlib only), so it runs with any Python >= 3.11.
"""

from __future__ import annotations

import sys
from pathlib import Path

REQUIRED = (
    "template.yaml",
    "ArchiverLayer/python/archiver/__init__.py",
    "ArchiverFunction/app.py",
)
# Compiled dependencies the layer must carry, built for the Lambda's architecture.
COMPILED_PACKAGES = ("lxml", "nh3")
ELF_MACHINE_AARCH64 = 0xB7


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


def check(build_dir: Path) -> list[str]:
    """Return the problems found in a `sam build` output directory (empty when deployable)."""
    problems = [f"missing {build_dir / rel}" for rel in REQUIRED if not (build_dir / rel).is_file()]
    site = build_dir / "ArchiverLayer" / "python"
    if not site.is_dir():
        return [*problems, f"missing {site}"]

    shared_objects = list(site.rglob("*.so"))
    for so in shared_objects:
        machine = elf_machine(so)
        if machine is not None and machine != ELF_MACHINE_AARCH64:
            problems.append(f"{so.relative_to(build_dir)} is not aarch64 (ELF machine {machine:#x})")

    for package in COMPILED_PACKAGES:
        tags = wheel_tags(site, package)
        if not tags:
            problems.append(f"{package} is not installed in the layer")
        elif not all(tag.endswith("aarch64") for tag in tags):
            problems.append(f"{package} wheel is not built for aarch64: {', '.join(tags)}")
        if not any(so.relative_to(site).parts[0] == package for so in shared_objects):
            problems.append(f"{package} has no compiled module in the layer")
    return problems


def main(argv: list[str]) -> int:
    build_dir = Path(argv[1] if len(argv) > 1 else ".aws-sam/build")
    if not build_dir.is_dir():
        print(f"check_build: {build_dir} does not exist; run `make build`", file=sys.stderr)
        return 1
    problems = check(build_dir)
    for problem in problems:
        print(f"check_build: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_build: {build_dir} is deployable (arm64 layer, handler and template present)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
