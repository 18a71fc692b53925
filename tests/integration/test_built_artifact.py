"""What ships runs: every sample event, on the artifact `make build-host` built, in a clean python3.12.

The function folder (/var/task), the layer's python/ (/opt/python) and the runtime's boto3 are the
only import roots; the template's environment is the only configuration (archiver.local.built).
Skipped only when the host build is absent (`make test` builds it first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.local.built import BuiltArtifact, BuiltFunction, FunctionError
from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = REPO_ROOT / ".aws-sam" / "host"
EVENTS = sorted((REPO_ROOT / "events").glob("*.json"))
SAMPLE = REPO_ROOT / "events" / "samples" / "newswire-harbour-strike.txt"

pytestmark = pytest.mark.skipif(not (HOST / ".stamp").is_file(), reason=f"no host build in {HOST}: `make build-host`")


def s3_event(bucket: str, key: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
                         "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}}]}


def test_every_sample_event_runs_on_the_built_artifact() -> None:
    """All sample events through one `archiver local invoke --built` (one local stack), each a cold start."""
    result = subprocess.run([sys.executable, "-m", "archiver", "local", "invoke", "--built", str(HOST),
                             *map(str, EVENTS)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr[-4000:]
    found: dict[str, list[dict]] = {}
    for line in map(json.loads, result.stdout.splitlines()):
        if set(line) == {"event"}:
            current = found.setdefault(Path(line["event"]).name, [])
        else:
            current.append(line)
    assert list(found) == [path.name for path in EVENTS]
    for event, (response, *outcomes) in found.items():
        assert "errorType" not in response, (event, response)
        assert response.get("batchItemFailures", []) == [], event
        for outcome in outcomes:  # one stack: a sample named by two events is the second time a duplicate
            assert outcome["status"] in ("archived", "duplicate"), (event, outcome)
    assert any(outcome["status"] == "archived" for _, *outcomes in found.values() for outcome in outcomes)
    # Each ran in the bootstrap, a cold start of its own, not in this process.
    assert result.stderr.count("REPORT Init Duration:") == len(EVENTS)


def test_imports_come_only_from_the_function_the_layer_and_the_runtime(local_aws: LocalAWS) -> None:
    artifact = BuiltArtifact.from_dir(HOST)
    resources = local_aws.resources
    function = BuiltFunction(local_aws, resources, artifact)
    local_aws.client("s3").put_object(Bucket=resources.inbox_bucket, Key="built/imports.txt", Body=SAMPLE.read_bytes())

    assert function.invoke(s3_event(resources.inbox_bucket, "built/imports.txt")) == {"archived": 1}

    modules = function.last_report["modules"]
    task, layer, runtime = (str(path.resolve()) for path in artifact.paths)
    assert modules["app"] == task
    assert modules["archiver"] == layer
    assert modules["gcld3"] == layer  # the post declares no language: it was guessed
    assert modules["aws_xray_sdk"] == layer  # the tracer is on, as deployed
    assert modules["boto3"] == runtime and modules["botocore"] == runtime  # the runtime's, not a layer copy
    assert "numpy" not in modules and "moto" not in modules
    allowed = (task, layer, runtime, "stdlib", "builtin")
    strays = {name: origin for name, origin in modules.items() if origin not in allowed}
    assert strays == {}


def test_a_module_missing_from_the_layer_fails_the_invocation(local_aws: LocalAWS, tmp_path: Path) -> None:
    built = BuiltArtifact.from_dir(HOST)
    layer = tmp_path / "python"
    layer.mkdir()
    # The same layer without Powertools (which the handler imports at its cold start), linked rather than copied.
    for entry in built.layer_dir.iterdir():
        if not entry.name.startswith("aws_lambda_powertools"):
            os.symlink(entry, layer / entry.name)
    artifact = BuiltArtifact(function_dir=built.function_dir, layer_dir=layer, runtime_dir=built.runtime_dir,
                             python=built.python)

    with pytest.raises(FunctionError) as failed:
        BuiltFunction(local_aws, local_aws.resources, artifact).invoke({"version": "0", "source": "aws.events",
                                                                         "detail-type": "Scheduled Event",
                                                                         "detail": {}, "resources": []})

    assert failed.value.error_type == "Runtime.ImportModuleError"
    assert "aws_lambda_powertools" in str(failed.value)


def test_the_function_gets_only_the_templates_environment_and_lambdas(local_aws: LocalAWS,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVER_PARENT_ONLY", "1")
    function = BuiltFunction(local_aws, local_aws.resources, BuiltArtifact.from_dir(HOST))

    environment = function.environment()

    own = set(environment) - set(local_aws.resources.environment)
    assert own == {"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "LANG", "TZ",
                   "PATH", "_HANDLER", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                   "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                   "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "_X_AMZN_TRACE_ID", "AWS_XRAY_DAEMON_ADDRESS",
                   "AWS_XRAY_CONTEXT_MISSING"}
    assert environment["TABLE_NAME"] == local_aws.resources.table_name
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"  # the template's Globals (docs/cost.md)
