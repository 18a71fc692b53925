"""Run what ships: the `sam build` artifact in a clean python3.12 process, as Lambda runs it.

`make build-host` builds the function and layer for this machine's architecture into
`.aws-sam/host/build` (the arm64 layer that deploys cannot load on x86_64), installs the pinned boto3
that the Lambda runtime provides into `.aws-sam/host/runtime` (the layer does not ship it), and
records the python3.12 it used in `.aws-sam/host/interpreter`. Each invocation is a cold start: a
new `python3.12 -I -S` process whose imports come only from the function folder (/var/task), the
layer's `python/` (/opt/python) and that runtime folder, with only the template's environment and
the variables Lambda sets, talking to the parent's local AWS. So a dependency missing from the
layer, or an import that works only from the source tree, fails here as it would in Lambda.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError
from archiver.local.stack import REGION, LocalAWS, LocalResources
from archiver.local.template import FUNCTION_ID, TemplateError, base_context, resolve
from archiver.store import ArchiveStore

DEFAULT_HOST_DIR = Path(".aws-sam") / "host"
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# What Lambda's python3.12 runtime sets besides the function's own variables.
LAMBDA_VARIABLES = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


class ArtifactMissing(TemplateError, FileNotFoundError):
    """No host build where one was expected."""


class FunctionError(ArchiverError):
    """The built function's invocation failed; `error_type` is what Lambda would report."""

    code = "function_error"

    def __init__(self, error_type: str, message: str):
        super().__init__(message, code=self.code, stage="invoke")
        self.error_type = error_type


@dataclass(frozen=True)
class BuiltArtifact:
    """The folders of a host build, as Lambda mounts them, and the interpreter that runs them."""

    function_dir: Path  # /var/task
    layer_dir: Path  # /opt/python
    runtime_dir: Path  # the runtime's own boto3 (/var/runtime)
    python: str

    @classmethod
    def from_dir(cls, root: Path = DEFAULT_HOST_DIR, python: str | None = None) -> BuiltArtifact:
        """The artifact `make build-host` left in `root`; ArtifactMissing if a part is absent."""
        build = root / "build"
        artifact = cls(function_dir=build / FUNCTION_ID, layer_dir=build / "ArchiverLayer" / "python",
                       runtime_dir=root / "runtime", python=python or _recorded_interpreter(root))
        for folder in (artifact.function_dir, artifact.layer_dir, artifact.runtime_dir):
            if not folder.is_dir():
                raise ArtifactMissing(f"{folder} is missing: run `make build-host` first")
        return artifact

    @property
    def paths(self) -> list[Path]:
        return [self.function_dir, self.layer_dir, self.runtime_dir]


class BuiltFunction:
    """The template's function, run from the built artifact against a started LocalAWS.

    Same interface as archiver.local.runner.LocalFunction: `invoke(event)` and `store`.
    """

    def __init__(self, aws: LocalAWS, resources: LocalResources, artifact: BuiltArtifact):
        self.aws = aws
        self.resources = resources
        self.artifact = artifact
        properties = _function_properties(aws.template)
        self.handler = properties["Handler"]
        self.timeout = float(properties.get("Timeout", 3))
        self.memory = str(properties.get("MemorySize", 128))
        self.store = ArchiveStore(aws.client("s3"), aws.client("dynamodb"),
                                  archive_bucket=resources.archive_bucket, table_name=resources.table_name)
        self.last_report: dict[str, Any] = {}

    def environment(self) -> dict[str, str]:
        """Only what Lambda would give the function: the template's variables and the runtime's own."""
        return {
            **LAMBDA_VARIABLES,
            **self.resources.environment,
            "_HANDLER": self.handler,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_ID,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": self.memory,
            "LAMBDA_TASK_ROOT": str(self.artifact.function_dir.resolve()),
            "LAMBDA_RUNTIME_DIR": str(self.artifact.runtime_dir.resolve()),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # The local stand-ins for AWS's endpoints and the execution role's credentials.
            "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Tracing: Active, as deployed, so Powertools' tracer loads the X-Ray SDK and patches the
            # runtime's botocore; the trace header says "not sampled", so nothing is sent anywhere.
            "_X_AMZN_TRACE_ID": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};"
                                "Sampled=0",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        }

    def invoke(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """One cold start and invocation; the function's logs go to stderr. Raises FunctionError."""
        with tempfile.TemporaryDirectory(prefix="archiver-invoke-") as scratch:
            event_file, result_file = Path(scratch) / "event.json", Path(scratch) / "result.json"
            event_file.write_text(json.dumps(event), "utf-8")
            command = [self.artifact.python, "-I", "-S", str(BOOTSTRAP)]
            for path in self.artifact.paths:
                command += ["--path", str(path.resolve())]
            command += ["--timeout", str(self.timeout), str(event_file), str(result_file)]
            completed = subprocess.run(command, cwd=self.artifact.function_dir, env=self.environment(),
                                       capture_output=True, text=True, timeout=self.timeout + 60)
            sys.stderr.write(completed.stdout + completed.stderr)
            if completed.returncode != 0 or not result_file.is_file():
                raise FunctionError("Runtime.ExitError",
                                    f"the runtime exited with status {completed.returncode}: "
                                    f"{completed.stderr.strip()[-2000:]}")
            self.last_report = json.loads(result_file.read_text("utf-8"))
        response = self.last_report.get("response")
        if isinstance(response, dict) and "errorType" in response and "errorMessage" in response:
            raise FunctionError(response["errorType"], response["errorMessage"])
        return response


def _function_properties(template: dict[str, Any]) -> dict[str, Any]:
    """The function's Properties with the template's Globals applied (Handler, Timeout, MemorySize)."""
    merged = {**(template.get("Globals") or {}).get("Function", {}),
              **template["Resources"][FUNCTION_ID]["Properties"]}
    context = base_context(template)
    wanted = ("Handler", "Timeout", "MemorySize")
    return {key: resolve(value, context) for key, value in merged.items() if key in wanted}


def _recorded_interpreter(root: Path) -> str:
    """The python3.12 that built the artifact (its .pyc and compiled wheels must match), else the one on PATH."""
    recorded = root / "interpreter"
    return recorded.read_text("utf-8").strip() if recorded.is_file() else "python3.12"
