"""The re-processing state machine of template.yaml, its handler route, and what moto can do with it.

cfn-lint validates the definition's states (`make validate`, rule E3601). moto 5.2.5 stores the
definition as given; its executor (`execute_state_machine`) has no `ItemBatcher` in its grammar, so it
refuses this definition, and accepts the same definition without the batcher: everything else (the
S3 ItemReader, the *Path limits, the distributed ItemProcessor, Retry with JitterStrategy, the
intrinsic functions) is in its grammar. It cannot run the map's Lambda task (no Lambda runtime
without Docker): the batches are handed to the handler here instead, shaped as the map shapes them.
"""

from __future__ import annotations

import copy
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.events import REPROCESS_ACTION
from archiver.local.runner import LocalFunction
from archiver.local.stack import LocalAWS
from archiver.local.template import load_template, resolve
from archiver.model import Input, Origin
from archiver.pipeline import archive_input

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:post-archiver-ArchiverFunction"
SAMPLES = REPO_ROOT / "events" / "samples"


def state_machine() -> dict[str, Any]:
    return load_template(REPO_ROOT / "template.yaml")["Resources"]["ReprocessStateMachine"]


def definition(archive_bucket: str) -> dict[str, Any]:
    """The definition as CloudFormation hands it to Step Functions: substitutions applied."""
    properties = state_machine()["Properties"]
    context = {"ArchiveBucket": archive_bucket, "ArchiverFunction.Arn": FUNCTION_ARN, "ReprocessMaxConcurrency": 10,
               "ReprocessBatchSize": 20, "ReprocessToleratedFailurePercentage": 5}
    text = json.dumps(properties["Definition"])
    for name, value in resolve(properties["DefinitionSubstitutions"], context).items():
        text = text.replace("${" + name + "}", str(value))
    assert "${" not in text
    return json.loads(text)


def test_the_map_lists_raw_originals_and_hands_batches_to_the_archiver() -> None:
    states = definition("archive")["States"]
    limits = states["Limits"]["Parameters"]["limits"]
    assert limits == {"max_concurrency.$": "States.StringToJson('10')", "batch_size.$": "States.StringToJson('20')",
                      "tolerated_failure_percentage.$": "States.StringToJson('5')"}
    mapped = states["ReprocessOriginals"]
    assert mapped["ItemReader"] == {"Resource": "arn:aws:states:::s3:listObjectsV2",
                                    "Parameters": {"Bucket": "archive", "Prefix": "raw/"}}
    assert mapped["ItemBatcher"]["BatchInput"]["action"] == REPROCESS_ACTION
    assert mapped["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert mapped["MaxConcurrencyPath"] == "$.limits.max_concurrency"
    assert mapped["ToleratedFailurePercentagePath"] == "$.limits.tolerated_failure_percentage"
    task = mapped["ItemProcessor"]["States"]["ReprocessBatch"]
    assert task["Parameters"]["FunctionName"] == FUNCTION_ARN


def test_the_role_only_lists_raw_and_invokes_the_archiver() -> None:
    template = load_template(REPO_ROOT / "template.yaml")
    role = template["Resources"]["ReprocessStateMachineRole"]["Properties"]
    statements = {s["Sid"]: s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}
    actions = {a for s in statements.values() for a in s["Action"]}
    assert not any(a.startswith(("s3:Get", "s3:Put", "s3:Delete", "dynamodb:")) for a in actions)
    assert statements["ListArchiveOriginals"]["Condition"] == {"StringLike": {"s3:prefix": "raw/*"}}
    assert statements["InvokeArchiver"]["Action"] == ["lambda:InvokeFunction"]
    wildcard = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert wildcard == {"Traces", "DeliverExecutionLogs"}  # services without resource-level permissions


def _moto_executes(aws: LocalAWS, enabled: bool) -> None:
    body = json.dumps({"stepfunctions": {"execute_state_machine": enabled}}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{aws.endpoint_url}/moto-api/config", data=body,
                                                       method="POST"), timeout=30) as response:
        response.read()


def test_moto_stores_the_definition_and_its_executor_lacks_item_batcher(clean_aws: LocalAWS) -> None:
    sfn = clean_aws.client("stepfunctions")
    document = definition(clean_aws.resources.archive_bucket)
    role = "arn:aws:iam::123456789012:role/reprocess"

    stored = sfn.create_state_machine(name="reprocess", definition=json.dumps(document), roleArn=role)
    assert json.loads(sfn.describe_state_machine(stateMachineArn=stored["stateMachineArn"])["definition"]) == document

    _moto_executes(clean_aws, True)
    try:
        with pytest.raises(ClientError) as refused:
            sfn.create_state_machine(name="reprocess-run", definition=json.dumps(document), roleArn=role)
        assert "ItemBatcher" in str(refused.value)
        unbatched = copy.deepcopy(document)
        del unbatched["States"]["ReprocessOriginals"]["ItemBatcher"]
        sfn.create_state_machine(name="reprocess-unbatched", definition=json.dumps(unbatched), roleArn=role)
    finally:
        _moto_executes(clean_aws, False)


def test_the_handler_reprocesses_a_batch_as_the_map_hands_it(clean_aws: LocalAWS) -> None:
    resources = clean_aws.resources
    function = LocalFunction(clean_aws, resources)
    keys = []
    for sample in ("newswire-harbour-strike.txt", "newswire-library-reopens.txt"):
        origin = Origin("s3", f"s3://{resources.inbox_bucket}/{sample}", resources.inbox_bucket, sample)
        outcome = archive_input(Input(data=(SAMPLES / sample).read_bytes(), name=sample, origin=origin),
                                function.store)
        keys.append(outcome.raw_key)
    event = {"Items": [{"Key": key, "LastModified": 1709649000, "Size": 1, "Etag": '"x"', "StorageClass": "STANDARD"}
                       for key in [*keys, "raw/00/missing"]],
             "BatchInput": {"action": REPROCESS_ACTION, "options": {"dry_run": True}}}

    response = function.invoke(event)

    assert {k: response[k] for k in ("inputs", "renormalized", "unchanged", "skipped", "failed", "dry_run")} == {
        "inputs": 3, "renormalized": 0, "unchanged": 2, "skipped": 0, "failed": 1, "dry_run": True}
    assert response["failures"][0]["raw_key"] == "raw/00/missing"
    assert response["failures"][0]["code"] == "store_error"


def test_a_batch_honours_since_from_the_items_last_modified(clean_aws: LocalAWS) -> None:
    function = LocalFunction(clean_aws, clean_aws.resources)
    event = {"Items": [{"Key": "raw/00/old", "LastModified": 1709649000}],
             "BatchInput": {"action": REPROCESS_ACTION, "options": {"since": "2025-01-01"}}}

    assert function.invoke(event)["inputs"] == 0  # archived in 2024: not selected, not even read
