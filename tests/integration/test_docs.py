"""The docs run as written: the shell blocks of README.md and docs/*.md marked runnable, against a local stack.

The convention, for whoever writes docs:

- A fenced block whose info string is ``sh runnable`` is run by this test. GitHub highlights it as ``sh``
  and shows nothing of the marker.
- The README's one block with info string ``sh env`` is the environment the docs tell the user to set for
  the local stack (endpoint, dummy credentials, bucket and table names): it is run before every runnable
  block, of every document, and its names must be those the local stack announces.
- Every other shell block (plain ``sh``) is not run: it needs a real AWS account, takes minutes (`make
  test`, `make deploy`), or runs until Ctrl-C (`make local`). It must still be copy-pasteable as written.

How the blocks run:

1. A local stack is started as `make local` starts it, `archiver local up`, in the background on a free
   port of 127.0.0.1 with its `--state` in a temporary folder (`--schedule-every 0`: the schedule runs
   only on `archiver local tick`, as the docs do), with `FETCH_UNSAFE_ALLOW_NETWORKS=127.0.0.0/8` as the
   README tells the user to start it for fetching from a test site, and `REMOTE_MEDIA=false`
   (tests/conftest.py): no image is fetched from the web. It is stopped (SIGINT) at the end.
2. The docs' fixed ports are replaced in every block before it runs: 4566 (`make local`'s) by the stack's
   port, 8000 (the test site's) by another free port, so that a user's own `make local` is never touched.
3. Each runnable block runs in `bash` with `set -euo pipefail`, from the repo root, in document order
   (README.md first, then docs/*.md by name), each in a fresh shell that has only the env block set (no
   AWS variable of the caller's); it must exit 0. A block may leave a server running in the background
   (the README's test site): its process group is killed when its document is done.
4. After each block the test waits until the local stack is idle (its inbox, fetch and control queues
   empty), as a user waits for `make local`'s lines before looking at the archive.

Nothing reaches beyond 127.0.0.1: the blocks talk to the local stack and to the test site only. The other
tests of this module check what can be checked without running anything: one form of the CLI in every
block, the configuration table, the links, the checkov skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from archiver.local.template import load_template
from archiver.local.up import CONTROL_QUEUE

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LOCAL_PORT, SITE_PORT = 4566, 8000  # the ports the docs name: make local's, and the test site's
CLI = ".venv/bin/archiver"  # the one form of the command line in every example
BLOCK_SECONDS = 180  # bounds each block; never asserted on
IDLE_SECONDS = 120  # bounds each wait for the local stack to be idle
CPU_BUDGET_SECONDS = 90  # the whole run, this process and its children: a guard against docs that grow costly
# Links to documents another branch is writing (docs/site.md: the static site, search and export).
PENDING_DOCS = {"docs/site.md"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    info: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def shell(self) -> bool:
        return bool(self.info) and self.info[0] in ("sh", "bash", "shell", "console")


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with their info string split into words."""
    found, lines = [], path.read_text("utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        found.append(Block(path, i + 1, tuple(opening["info"].split()), "\n".join(body) + "\n"))
        i = j + 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in DOCS for block in blocks(path)]


def env_block() -> Block:
    found = [b for b in blocks(REPO / "README.md") if b.info[:2] == ("sh", "env")]
    assert len(found) == 1, "README.md must hold exactly one ```sh env block: the local stack's variables"
    return found[0]


def with_ports(text: str, local_port: int, site_port: int) -> str:
    text = re.sub(rf"\b{LOCAL_PORT}\b", str(local_port), text)
    return re.sub(rf"\b{SITE_PORT}\b", str(site_port), text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_variables() -> set[str]:
    """Every environment variable archiver.config.Settings reads."""
    source = (REPO / "layers" / "archiver" / "archiver" / "config.py").read_text("utf-8")
    return set(re.findall(r'env\.get\("([A-Z0-9_]+)"', source))


def clean_environment() -> dict[str, str]:
    """The caller's environment without anything that points AWS or the archiver somewhere: a block sees
    only what the docs tell the user to set (a developer's real credentials and profile are left out)."""
    dropped = settings_variables() | {"ARCHIVER_LOCAL_PORT"}
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "POWERTOOLS_")) and key not in dropped}
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "REMOTE_MEDIA": "false", "PYTHONUNBUFFERED": "1",
                "SAM_CLI_TELEMETRY": "0"})
    return env


class LiveStack:
    """`archiver local up` in the background, as `make local` runs it; its stdout lines kept."""

    def __init__(self, port: int, state: Path, stderr: Path):
        env = {**clean_environment(), "FETCH_UNSAFE_ALLOW_NETWORKS": "127.0.0.0/8"}
        self._stderr = stderr.open("w")
        self.stderr_path = stderr
        self.process = subprocess.Popen(
            [sys.executable, "-m", "archiver", "local", "up", "--port", str(port), "--state", str(state),
             "--schedule-every", "0", "--quiet"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self._first = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._first.wait(BLOCK_SECONDS) or not self.lines:
            self.stop()
            pytest.fail(f"archiver local up did not start:\n{stderr.read_text()[-3000:]}")
        self.announcement: dict[str, Any] = json.loads(self.lines[0])
        options = {"endpoint_url": self.announcement["endpoint"], "region_name": self.announcement["region"],
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.sqs = boto3.client("sqs", **options)
        self.queues = [self.announcement["queue_url"], self.announcement["fetch_queue_url"],
                       self.sqs.get_queue_url(QueueName=CONTROL_QUEUE)["QueueUrl"]]

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            self._first.set()
        self._first.set()

    def busy(self) -> bool:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        for url in self.queues:
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            if any(int(attributes.get(name, 0)) for name in names):
                return True
        return False

    def wait_idle(self) -> None:
        """Until every queue the stack serves is empty twice in a row (a scheduled run empties the control
        queue a moment before it fills the fetch queue)."""
        deadline, quiet = time.monotonic() + IDLE_SECONDS, 0
        while quiet < 2:
            if self.process.poll() is not None:
                pytest.fail(f"archiver local up ended:\n{self.stderr_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the local stack was still busy after {IDLE_SECONDS} s; its last lines:\n"
                            + "".join(self.lines[-10:]))
            quiet = 0 if self.busy() else quiet + 1
            time.sleep(0.3)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=BLOCK_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        return self.stderr_path.read_text()


@pytest.fixture
def live_stack(tmp_path: Path) -> Iterator[LiveStack]:
    """The local stack the blocks run against; the test is skipped first when the blocks cannot run here."""
    if shutil.which("aws") is None:
        pytest.skip("the docs' blocks use the AWS CLI (`aws`), which is not on PATH")
    if not (REPO / CLI).exists() or subprocess.run(["make", "-q", ".venv/.stamp"], cwd=REPO).returncode != 0:
        pytest.skip("the virtualenv is missing or out of date (`make setup`): the blocks' make targets would install")
    stack = LiveStack(free_port(), tmp_path / "state", tmp_path / "local-up.stderr")
    try:
        yield stack
    finally:
        stack.stop()


def run_block(block: Block, prelude: str, env: dict[str, str], ports: tuple[int, int], log: Path) -> tuple[int, int]:
    """Run one block in bash (its own process group); its exit status and the group's id."""
    script = "set -euo pipefail\n" + with_ports(prelude, *ports) + with_ports(block.text, *ports)
    with log.open("w") as out:
        process = subprocess.Popen(["bash", "-c", script], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return process.wait(timeout=BLOCK_SECONDS), process.pid
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return -9, process.pid


def kill_groups(groups: list[int]) -> None:
    """End what the blocks left running in the background (the README's test site)."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
    groups.clear()


def test_every_runnable_block_of_the_docs_runs_against_a_local_stack(live_stack: LiveStack, tmp_path: Path) -> None:
    cpu_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    port = int(live_stack.announcement["endpoint"].rsplit(":", 1)[1])
    ports = (port, free_port())

    environment = env_block()
    declared = dict(re.findall(r"\b([A-Z_]+)=(\S+)", environment.text))
    announced = live_stack.announcement
    assert (declared["INBOX_BUCKET"], declared["ARCHIVE_BUCKET"], declared["TABLE_NAME"]) == (
        announced["inbox_bucket"], announced["archive_bucket"], announced["table"]), "the README names other resources"
    assert with_ports(declared["AWS_ENDPOINT_URL"], *ports) == announced["endpoint"]
    assert "FETCH_UNSAFE_ALLOW_NETWORKS=127.0.0.0/8 make local" in (REPO / "README.md").read_text("utf-8")

    runnable = [block for block in all_blocks() if block.info[:2] == ("sh", "runnable")]
    assert len(runnable) >= 10, [block.where for block in runnable]
    failures, groups, env = [], [], clean_environment()
    for n, block in enumerate(runnable):
        log = tmp_path / f"block-{n:02d}.log"
        code, group = run_block(block, environment.text, env, ports, log)
        groups.append(group)
        if code != 0:
            failures.append(f"{block.where}: exit {code}\n{block.text}--- output ---\n{log.read_text()[-3000:]}")
        live_stack.wait_idle()
        if n + 1 == len(runnable) or runnable[n + 1].path != block.path:
            kill_groups(groups)

    failed_lines = [line for line in live_stack.lines[1:] if '"status": "failed"' in line]
    stderr = live_stack.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = sum(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
              for after, before in zip((own, children), cpu_before, strict=True))
    print(f"{len(runnable)} runnable blocks in {len({b.path for b in runnable})} documents, {cpu:.1f} s of CPU")
    assert failures == [], "\n\n".join(failures)
    assert failed_lines == [], failed_lines  # nothing the docs drop or fetch fails
    assert "Traceback" not in stderr, stderr[-3000:]
    assert cpu < CPU_BUDGET_SECONDS, f"{cpu:.1f} s of CPU: keep the runnable blocks cheap"


def test_every_example_calls_the_cli_one_way() -> None:
    """`.venv/bin/archiver ...` in every shell block: a bare `archiver` is not on PATH after `make setup`."""
    bare = re.compile(r"(?<![\w./-])archiver\s+(?=[a-z-])")
    found = []
    for block in all_blocks():
        if not block.shell:
            continue
        for offset, line in enumerate(block.text.splitlines(), start=1):
            command = re.sub(r"(^|\s)#.*", "", line)
            if bare.search(command):
                found.append(f"{block.where}+{offset}: {line.strip()}")
    assert found == []


def test_the_configuration_table_names_every_setting_the_function_and_the_cli_read() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    table = readme[readme.index("## Configuration"):]
    table = table[:table.index("\n## ", 1)]
    template = load_template(REPO / "template.yaml")
    function = template["Resources"]["ArchiverFunction"]["Properties"]["Environment"]["Variables"]
    cli = (REPO / "layers" / "archiver" / "archiver" / "cli.py").read_text("utf-8")
    deployment = (REPO / "layers" / "archiver" / "archiver" / "deployment.py").read_text("utf-8")
    names = (settings_variables() | set(template["Parameters"]) | set(function)
             | set(template["Globals"]["Function"]["Environment"]["Variables"])
             | set(re.findall(r'environ\.get\("([A-Z0-9_]+)"', deployment))
             | set(re.findall(r'LOCAL_PORT_VARIABLE = "([A-Z0-9_]+)"', cli)) | {"AWS_DEFAULT_REGION"})
    assert len(names) > 40
    assert sorted(name for name in names if f"`{name}`" not in table) == []


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    fenced = {line for block in blocks(path) for line in block.text.splitlines()}
    return {slug(line.lstrip("#")) for line in path.read_text("utf-8").splitlines()
            if line.startswith("#") and line not in fenced}


def test_links_between_the_docs_lead_somewhere() -> None:
    broken = []
    for path in DOCS:
        text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            if not resolved.is_relative_to(REPO) or str(resolved.relative_to(REPO)) in PENDING_DOCS:
                continue  # beside the checkout (../shared), or written on another branch
            if not resolved.exists():
                broken.append(f"{path.relative_to(REPO)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{path.relative_to(REPO)}: {target} (no such heading)")
    assert broken == []


def test_the_readme_is_a_guide_and_every_doc_says_what_it_is_for() -> None:
    readme = (REPO / "README.md").read_text("utf-8").splitlines()
    assert len(readme) <= 300
    first_screen = "\n".join(readme[:40])
    assert "make demo" in first_screen and "make test" in first_screen
    for path in DOCS[1:]:
        lines = path.read_text("utf-8").splitlines()
        assert lines[0].startswith("# ") and lines[1] == "" and lines[2].strip(), path


def test_deploy_doc_names_every_check_the_template_skips_and_every_output() -> None:
    template = load_template(REPO / "template.yaml")
    skipped = {skip["id"] for resource in template["Resources"].values()
               for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])}
    deploy = (REPO / "docs" / "deploy.md").read_text("utf-8")
    assert skipped and sorted(check for check in skipped if f"`{check}`" not in deploy) == []
    assert sorted(output for output in template["Outputs"] if f"`{output}`" not in deploy) == []
