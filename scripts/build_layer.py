"""Build the archiver layer: pinned wheels for the Lambda's platform, minus what the runtime has, compiled.

`sam build` runs this through layers/archiver/Makefile (BuildMethod: makefile), with the python3.12
it finds first on PATH (the Lambda runtime's version: the `.pyc` files must match it):

    python3.12 scripts/build_layer.py --source layers/archiver --artifacts DIR [--arch arm64|x86_64]

Into DIR/python (Lambda's /opt/python): the wheels of requirements.txt for manylinux on `--arch`,
the `archiver` package, without the distributions the Lambda runtime already has (EXCLUDED) and
the files nothing imports (PRUNED), every module byte-compiled for python3.12. Stdlib only.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
from pathlib import Path

PYTHON_VERSION = (3, 12)  # the template's Runtime: python3.12
# The pip that resolves the layer, kept in .aws-sam/tools: pip < 24 (pyenv's 3.12.1 has 23.2.1) fails
# on two requests for one extra spelled two ways (justext's lxml[html_clean], readability's lxml[html-clean]).
BUILD_PIP = "pip==26.3"
TOOLS_DIR = Path(__file__).resolve().parent.parent / ".aws-sam" / "tools"
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): any manylinux wheel up to 2_34 loads.
GLIBC_MINORS = range(34, 16, -1)
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}

# Distributions that requirements pull in but the layer must not ship, by normalized name.
EXCLUDED = {
    # aws-xray-sdk (Powertools' tracer) depends on botocore; the Lambda runtime has boto3 and
    # botocore, and a second copy in /opt/python would shadow the runtime's (24 MB).
    "boto3": "provided by the Lambda runtime",
    "botocore": "provided by the Lambda runtime",
    "s3transfer": "provided by the Lambda runtime",
}

# Files and folders nothing imports at run time (glob patterns relative to python/), and why.
PRUNED = {
    # courlan imports babel's Locale for its URL language filter (lang_filter), which trafilatura
    # only applies when crawling feeds or sitemaps with a target language: never for extract().
    # Without the data, Locale.parse raises UnknownLocaleError, which courlan catches (32 MB).
    "babel/locale-data": "CLDR data for courlan's URL language filter, which archiver never calls",
    "*/tests": "test suites of installed packages",
    "*/test": "test suites of installed packages",
    "lxml/includes": "C headers for building against lxml",
    "**/*.pyi": "type stubs",
    "*-stubs": "type stubs",
    "bin": "console scripts (a layer's bin/ is not on the function's PATH for these)",
    "dateparser_scripts": "dateparser's maintenance scripts",
    "dateparser_cli": "dateparser's command line",
    # The archiver's development tools: the local AWS needs moto, which the layer does not have.
    "archiver/local": "the embedded local AWS and its runners (development only)",
    "archiver/cli.py": "the `archiver` command line (development only)",
    "archiver/__main__.py": "the `archiver` command line (development only)",
}


def pip_platforms(arch: str) -> list[str]:
    machine = ARCHITECTURES[arch]
    return [f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS] + [f"manylinux2014_{machine}"]


def build_pip() -> dict[str, str]:
    """The environment that makes `python -m pip` the pinned BUILD_PIP (installed on first use)."""
    folder = TOOLS_DIR / BUILD_PIP.replace("==", "-")
    if not folder.is_dir():
        partial = folder.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(partial), BUILD_PIP], check=True)
        partial.rename(folder)
    return {**os.environ, "PYTHONPATH": str(folder)}


def install_requirements(requirements: Path, site: Path, arch: str) -> None:
    """Wheels only, resolved for the Lambda's platform and Python (whatever the build host is)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--target", str(site), "--implementation", "cp",
               "--python-version", ".".join(map(str, PYTHON_VERSION)), "--only-binary=:all:",
               "-r", str(requirements)]
    for platform in pip_platforms(arch):
        command += ["--platform", platform]
    subprocess.run(command, check=True, env=build_pip())


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def remove_distribution(site: Path, dist_info: Path) -> int:
    """Delete every file an installed distribution's RECORD lists, then its dist-info; return bytes freed."""
    freed = 0
    record = dist_info / "RECORD"
    for line in record.read_text("utf-8").splitlines() if record.is_file() else []:
        path = site / line.split(",", 1)[0]
        if path.is_file() and site.resolve() in path.resolve().parents:
            freed += path.stat().st_size
            path.unlink()
    shutil.rmtree(dist_info, ignore_errors=True)
    for directory in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    return freed


def exclude(site: Path) -> list[str]:
    removed = []
    for dist_info in sorted(site.glob("*.dist-info")):
        name = canonical(dist_info.name.split("-", 1)[0])  # name-version.dist-info
        if name in EXCLUDED:
            freed = remove_distribution(site, dist_info)
            removed.append(f"{name} ({freed / 1e6:.1f} MB): {EXCLUDED[name]}")
    return removed


def prune(site: Path) -> list[str]:
    pruned = []
    for pattern, reason in PRUNED.items():
        for path in sorted(site.glob(pattern)):
            if path.is_dir():
                size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                shutil.rmtree(path)
            elif path.is_file():
                size = path.stat().st_size
                path.unlink()
            else:
                continue
            if size >= 100_000 or path.relative_to(site).parts[0] == "archiver":  # small ones unlisted
                pruned.append(f"{path.relative_to(site)} ({size / 1e6:.1f} MB): {reason}")
    return pruned


def copy_package(source: Path, site: Path) -> None:
    """The archiver package as it is in the source tree, without a development interpreter's caches."""
    shutil.copytree(source / "archiver", site / "archiver",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))


def compile_all(site: Path) -> None:
    """`.pyc` next to every module: Lambda's /opt is read-only, so without them every cold start compiles.

    unchecked-hash: the interpreter uses the .pyc without comparing the source's mtime, which a
    zip round trip does not keep exactly (2-second resolution) and which would make it stale.
    """
    import py_compile

    ok = compileall.compile_dir(site, quiet=1, workers=0,
                                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        raise SystemExit("build_layer: some modules do not compile for Python "
                         f"{'.'.join(map(str, PYTHON_VERSION))} (see above)")


def report(site: Path) -> None:
    sizes: dict[str, int] = {}
    for path in site.rglob("*"):
        if path.is_file():
            top = path.relative_to(site).parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    total = sum(sizes.values())
    largest = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in sorted(sizes.items(), key=lambda i: -i[1])[:8])
    print(f"build_layer: {site} holds {total / 1e6:.1f} MB; largest (MB): {largest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the layer's folder (requirements.txt, archiver/)")
    parser.add_argument("--artifacts", type=Path, required=True, help="the layer's build folder ($ARTIFACTS_DIR)")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="arm64")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != PYTHON_VERSION:
        print(f"build_layer: run me with python{'.'.join(map(str, PYTHON_VERSION))} (the Lambda runtime's): "
              f"{sys.executable} is {sys.version.split()[0]}", file=sys.stderr)
        return 1
    site = args.artifacts / "python"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    install_requirements(args.source / "requirements.txt", site, args.arch)
    copy_package(args.source, site)
    for line in exclude(site) + prune(site):
        print(f"build_layer: left out {line}")
    compile_all(site)
    report(site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
