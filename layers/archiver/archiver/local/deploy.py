"""Deploy template.yaml into the local AWS through CloudFormation, as `sam deploy` does into AWS.

    deployment = deploy_stack("blog", endpoint_url="http://127.0.0.1:4566")
    deployment.outputs["InboxBucketName"]

The steps are `sam deploy`'s: the function's and the layer's folders are zipped into the local S3
(package), the SAM template is expanded with samtranslator (the transform AWS runs server-side),
and the stack is created or updated through the CloudFormation API of the moto server. moto's
CloudFormation then leaves out properties it does not implement (bucket versioning, the inbox's
queue notification, ...): `apply_dropped_properties` applies each by API and lists it, so a
deployed local stack behaves as the AWS one. docs/local.md says which moto defects this works around.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.deployment import is_local_endpoint
from archiver.errors import ArchiverError
from archiver.local.stack import (
    REGION,
    LocalResources,
    lifecycle_rule,
    local_bucket_policy,
    notification_configuration,
    references,
)
from archiver.local.template import find_template, load_template, resolve

# Where packaged code and templates go, as SAM's managed bucket in AWS (one for every local stack).
ARTIFACTS_BUCKET = "post-archiver-local-artifacts"
# The template's outputs that name what the local runner serves (stack_resources).
SERVED_OUTPUTS = ("InboxBucketName", "ArchiveBucketName", "TableName", "InboxQueueUrl", "DeadLetterQueueUrl",
                  "FetchQueueUrl", "ArchiverFunctionName")
MAX_STATUS_POLLS = 50  # moto applies a stack synchronously; a few polls at most
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same folder zips to the same key
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
# Where each SAM type keeps the folder to package.
_CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
# Types moto 5.2.5's CloudFormation does not implement: it skips them with a warning, and a GetAtt of
# one then fails the whole stack. They are left out of the local stack (with what references them);
# the bucket and queue policies are applied by API afterwards. tests/integration/test_deploy_local.py
# checks this list against moto's own.
MOTO_UNSUPPORTED_TYPES = frozenset({"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::CloudWatch::Alarm"})
_FUNCTION_PROPERTIES = ("TracingConfig", "Architectures")  # checked after creation; Layers separately
_ENCRYPTION_KEYS = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}


class DeployError(ArchiverError):
    """The local deployment cannot go on (not a local endpoint, a failed stack, a bad template)."""

    code = "deploy_failed"
    stage = "deploy"


@dataclass(frozen=True)
class Fixup:
    """One template property that moto's CloudFormation dropped, and what was done about it."""

    resource: str  # logical id
    physical_id: str
    prop: str  # the template's property name
    action: str  # applied, already set, not applied; before the stack: left out, named, disabled
    detail: str = ""

    def line(self) -> str:
        text = f"{self.action:<12} {self.resource}.{self.prop} ({self.physical_id})"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class Deployment:
    """A deployed local stack: its status, outputs and the properties applied after CloudFormation."""

    stack_name: str
    stack_id: str
    status: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    fixups: list[Fixup] = field(default_factory=list)

    def report(self) -> str:
        """For people (stderr): the stack's status and each thing moto's CloudFormation did not do as AWS."""
        lines = [f"stack {self.stack_name}: {self.status}; what moto's CloudFormation did not do as AWS does, "
                 "and what was done instead (see docs/local.md):"]
        return "\n".join([*lines, *(f"  {fixup.line()}" for fixup in self.fixups)])


def check_local_endpoint(endpoint_url: str) -> None:
    """Refuse anything but a loopback endpoint: this module must never deploy into a real account."""
    if not is_local_endpoint(endpoint_url):
        raise DeployError(f"{endpoint_url} is not a local endpoint (127.0.0.1 or localhost): "
                          "`archiver local deploy` only deploys into the embedded local AWS; use `make deploy` for AWS")


def deploy_stack(
    stack_name: str,
    *,
    endpoint_url: str,
    template_path: str | Path | None = None,
    parameters: Mapping[str, str] | None = None,
    clients: Callable[[str], Any] | None = None,
) -> Deployment:
    """Package, transform and create (or update) `stack_name` in the local CloudFormation, then apply
    what moto dropped. `clients(service)` gives boto3 clients bound to `endpoint_url`."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
    from botocore.parsers import ResponseParserError

    check_local_endpoint(endpoint_url)
    try:
        return _deploy(stack_name, endpoint_url, template_path, dict(parameters or {}),
                       clients or _client_factory(endpoint_url))
    except EndpointConnectionError as exc:
        raise DeployError(f"nothing listens at {endpoint_url}: start `archiver local up` (or `make local`) first, "
                          "or leave out --endpoint-url for a one-off embedded local AWS") from exc
    except ClientError as exc:
        raise DeployError(f"stack {stack_name!r}: {exc}") from exc
    except (BotoCoreError, ResponseParserError) as exc:  # e.g. moto's HTTP 500: its traceback is in the server's log
        first_line = str(exc).splitlines()[0]
        raise DeployError(f"stack {stack_name!r}: the local AWS failed the request ({first_line})") from exc


def _deploy(stack_name: str, endpoint_url: str, template_path: str | Path | None, parameters: dict[str, str],
            client: Callable[[str], Any]) -> Deployment:
    template_path = Path(template_path) if template_path else find_template()
    template = load_template(template_path)
    s3 = client("s3")
    _ensure_bucket(s3, ARTIFACTS_BUCKET)
    packaged = package(template, template_path.parent, s3, ARTIFACTS_BUCKET)
    expanded = transform(packaged, parameters, client("iam"))
    created, adjustments = prepare_for_moto(expanded, stack_name)
    body = json.dumps(created, indent=1, sort_keys=True).encode()
    key = f"{stack_name}/template-{hashlib.sha256(body).hexdigest()[:16]}.json"
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=body)

    cfn = client("cloudformation")
    request = {
        "StackName": stack_name,
        "TemplateURL": template_url(endpoint_url, ARTIFACTS_BUCKET, key),
        "Parameters": [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    if _stack_exists(cfn, stack_name):
        cfn.update_stack(**request)
    else:
        cfn.create_stack(**request)
    stack = _wait(cfn, stack_name)
    physical_ids = _physical_ids(cfn, stack_name)
    deployment = Deployment(
        stack_name=stack_name, stack_id=stack["StackId"], status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []},
        physical_ids=physical_ids)
    context = _stack_context(client, stack, expanded, physical_ids)
    deployment.fixups = [*adjustments, *apply_dropped_properties(client, expanded, context, physical_ids)]
    return deployment


def template_url(endpoint_url: str, bucket: str, key: str) -> str:
    """The TemplateURL moto can read: host `localhost`, bucket in the path.

    moto reads the bucket from the path only when the URL contains "localhost" (or is an
    s3*.amazonaws.com URL); for http://127.0.0.1:PORT/bucket/key it takes "127" as the bucket name.
    """
    port = urlsplit(endpoint_url).port
    return f"http://localhost{f':{port}' if port else ''}/{bucket}/{key}"


# -- package and transform


def package(template: Mapping[str, Any], base_dir: Path, s3: Any, bucket: str) -> dict[str, Any]:
    """A copy of the template whose CodeUri/ContentUri folders are zipped into `bucket` (keys by content)."""
    packaged = json.loads(json.dumps(template))
    for logical_id, resource in packaged["Resources"].items():
        prop = _CODE_PROPERTIES.get(resource.get("Type"))
        uri = (resource.get("Properties") or {}).get(prop) if prop else None
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        folder = (base_dir / uri).resolve()
        if not folder.is_dir():
            raise DeployError(f"{logical_id}.{prop}: {folder} is not a folder")
        archive = zip_folder(folder)
        key = f"code/{hashlib.sha256(archive).hexdigest()}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=archive)
        resource["Properties"][prop] = {"Bucket": bucket, "Key": key}
    return packaged


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip with fixed timestamps (the same files give the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not _SKIPPED_PARTS & set(path.relative_to(folder).parts):
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_DATE)
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def transform(template: Mapping[str, Any], parameters: Mapping[str, str], iam: Any) -> dict[str, Any]:
    """The template with AWS::Serverless::* expanded, as CloudFormation's SAM transform would do it.

    moto has no transforms: it skips AWS::Serverless::* resources. `iam` resolves managed policy
    names (only when the template names one).
    """
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.translator import Translator

    # samtranslator.translator.transform.transform() without its default boto3 session, which
    # would take the region from the caller's AWS configuration instead of the local one.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    loader = ManagedPolicyLoader(iam)
    try:
        return translator.translate(json.loads(json.dumps(template)), parameter_values=dict(parameters),
                                    get_managed_policy_map=loader.load)
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise DeployError(f"the SAM transform refused the template: {causes}") from exc


# -- properties moto's CloudFormation drops, applied by API


def apply_dropped_properties(
    client: Callable[[str], Any], template: Mapping[str, Any], context: Mapping[str, Any],
    physical_ids: Mapping[str, str],
) -> list[Fixup]:
    """Apply each bucket and table property that moto did not, and say so for each one checked."""
    fixups: list[Fixup] = []
    for logical_id, resource in template["Resources"].items():
        name = physical_ids.get(logical_id)
        if resource["Type"] == "AWS::S3::BucketPolicy":  # moto's CloudFormation does not create these at all
            props = resolve(resource["Properties"], context)
            fixups.extend(_bucket_policy_fixups(client("s3"), logical_id, props, created=name is not None))
        elif resource["Type"] == "AWS::SQS::QueuePolicy":  # not enforced by moto; kept so that it reads as in AWS
            props = resolve(resource["Properties"], context)
            for queue_url in props["Queues"]:
                client("sqs").set_queue_attributes(QueueUrl=queue_url,
                                                   Attributes={"Policy": json.dumps(props["PolicyDocument"])})
                fixups.append(Fixup(logical_id, queue_url.rsplit("/", 1)[1], "PolicyDocument", "applied"))
        elif resource["Type"] == "AWS::S3::Bucket" and name:
            props = resolve(resource.get("Properties") or {}, context)
            fixups.extend(_bucket_fixups(client("s3"), logical_id, name, props))
        elif resource["Type"] == "AWS::Lambda::Function" and name:
            wanted = {k: v for k, v in (resource.get("Properties") or {}).items() if k in _FUNCTION_PROPERTIES}
            props = resolve(wanted, context)
            fixups.extend(_function_fixups(client("lambda"), logical_id, name, props, template, context))
        elif resource["Type"] == "AWS::DynamoDB::Table" and name:
            props = resolve(resource.get("Properties") or {}, context)
            fixups.extend(_table_fixups(client("dynamodb"), logical_id, name, props))
    return fixups


def prepare_for_moto(template: dict[str, Any], stack_name: str) -> tuple[dict[str, Any], list[Fixup]]:
    """The template moto's CloudFormation can create, and the list of what was changed for it.

    Resources of MOTO_UNSUPPORTED_TYPES are left out, with the resources and outputs that name them.
    AWS names an unnamed FIFO queue `<stack>-<LogicalId>-<random>.fifo`; moto leaves out the `.fifo`
    and then refuses to create the queue, so the queue is named here.
    """
    prepared = json.loads(json.dumps(template))
    resources = prepared["Resources"]
    adjustments = []
    left_out = {lid for lid, resource in resources.items() if resource["Type"] in MOTO_UNSUPPORTED_TYPES}
    while True:  # and whatever references something left out, until nothing more is
        more = {lid for lid, resource in resources.items()
                if lid not in left_out and references(_properties_only(resource), resources) & left_out}
        if not more:
            break
        left_out |= more
    for logical_id in sorted(left_out, key=list(resources).index):
        resource_type = resources.pop(logical_id)["Type"]
        for resource in resources.values():  # an order only: InboxBucket waits for InboxQueuePolicy in AWS
            depends_on = resource.get("DependsOn")
            if depends_on == logical_id or (isinstance(depends_on, list) and logical_id in depends_on):
                kept = [d for d in ([depends_on] if isinstance(depends_on, str) else depends_on) if d != logical_id]
                resource["DependsOn"] = kept
                if not kept:
                    del resource["DependsOn"]
        why = (f"moto's CloudFormation has no {resource_type}" if resource_type in MOTO_UNSUPPORTED_TYPES
               else "it references a resource left out")
        adjustments.append(Fixup(logical_id, resource_type, "(resource)", "left out", why))
    for key, output in list((prepared.get("Outputs") or {}).items()):
        if references({"Properties": output}, {lid: None for lid in left_out}):
            del prepared["Outputs"][key]
            adjustments.append(Fixup(key, "output", "(output)", "left out", "its resource is left out"))
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Lambda::Function" and props.get("Layers"):
            # moto ignores Layers on create, and on update hands its LayerVersion object where an ARN
            # belongs (AttributeError, HTTP 500): attached by API after the stack instead.
            del props["Layers"]
            adjustments.append(Fixup(logical_id, "function", "Layers", "left out",
                                     "moto's CloudFormation fails updating a function with a layer of its stack"))
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and props.get("Enabled", True):
            # moto would run the function in Docker for each message (there is none here: every message
            # then fails once and counts towards the DLQ); the local runner polls the queue instead.
            props["Enabled"] = False
            adjustments.append(Fixup(logical_id, "event source mapping", "Enabled", "disabled",
                                     "moto would invoke the function in Docker; the local runner polls the queue"))
        if resource["Type"] == "AWS::SQS::Queue" and props.get("FifoQueue") and "QueueName" not in props:
            name = f"{stack_name}-{logical_id}"[:75] + ".fifo"
            props["QueueName"] = name
            adjustments.append(Fixup(logical_id, name, "QueueName", "named",
                                     "moto would not add .fifo to the name it generates"))
    return prepared, adjustments


def _properties_only(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {"Properties": resource.get("Properties") or {}}


def _bucket_fixups(s3: Any, logical_id: str, name: str, props: Mapping[str, Any]) -> Iterator[Fixup]:
    def current(call: Callable[..., dict], key: str) -> Any:
        try:
            return call(Bucket=name).get(key)
        except s3.exceptions.ClientError:  # "no such configuration" is an error code in S3
            return None

    # property -> (is it set as the template says?, set it)
    checks: dict[str, tuple[Callable[[], bool], Callable[[], Any]]] = {
        "VersioningConfiguration": (
            lambda: current(s3.get_bucket_versioning, "Status") == props["VersioningConfiguration"]["Status"],
            lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                "Status": props["VersioningConfiguration"]["Status"]})),
        "BucketEncryption": (
            lambda: bool(current(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration")),
            lambda: s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {_ENCRYPTION_KEYS.get(k, k): v for k, v in rule.items()}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})),
        "PublicAccessBlockConfiguration": (
            lambda: current(s3.get_public_access_block, "PublicAccessBlockConfiguration")
            == props["PublicAccessBlockConfiguration"],
            lambda: s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])),
        "OwnershipControls": (
            lambda: bool(current(s3.get_bucket_ownership_controls, "OwnershipControls")),
            lambda: s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])),
        "LifecycleConfiguration": (
            lambda: bool(current(s3.get_bucket_lifecycle_configuration, "Rules")),
            lambda: s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
                lifecycle_rule(logical_id, rule) for rule in props["LifecycleConfiguration"]["Rules"]]})),
        "NotificationConfiguration": (
            lambda: bool(current(s3.get_bucket_notification_configuration, "QueueConfigurations")),
            lambda: s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration=notification_configuration(logical_id, props["NotificationConfiguration"]))),
    }
    for prop, (is_set, apply) in checks.items():
        if prop not in props:
            continue
        if is_set():
            yield Fixup(logical_id, name, prop, "already set")
        else:
            apply()
            yield Fixup(logical_id, name, prop, "applied")
    if "LoggingConfiguration" in props:
        yield Fixup(logical_id, name, "LoggingConfiguration", "not applied",
                    "moto does not deliver server access logs")


def _bucket_policy_fixups(s3: Any, logical_id: str, props: Mapping[str, Any], *, created: bool) -> Iterator[Fixup]:
    bucket = props["Bucket"]
    policy = local_bucket_policy(props["PolicyDocument"])
    dropped = len(props["PolicyDocument"]["Statement"]) - len(policy["Statement"])
    # moto ignores a Deny's Condition: "deny unless TLS" would deny every request to the plain-HTTP endpoint.
    detail = f"without its {dropped} conditional Deny statement(s), whose Condition moto ignores" if dropped else ""
    if policy["Statement"]:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        yield Fixup(logical_id, bucket, "PolicyDocument", "applied", detail)
    elif created:
        s3.delete_bucket_policy(Bucket=bucket)
        yield Fixup(logical_id, bucket, "PolicyDocument", "removed", detail)
    else:
        yield Fixup(logical_id, bucket, "PolicyDocument", "not applied",
                    "its statements are conditional Denies, whose Condition moto ignores")


def _function_fixups(lambda_: Any, logical_id: str, name: str, props: Mapping[str, Any],
                     template: Mapping[str, Any], context: Mapping[str, Any]) -> Iterator[Fixup]:
    config = lambda_.get_function_configuration(FunctionName=name)
    layer_ids = [ref["Ref"] for ref in template["Resources"][logical_id]["Properties"].get("Layers", [])
                 if isinstance(ref, dict) and "Ref" in ref]
    if layer_ids:
        # moto names a stack's layer `<stack>-<LogicalId>-<random>` (it ignores LayerName); the function
        # gets it here, as the stack left it out (prepare_for_moto). After an update whose layer content
        # changed, SAM's layer logical id (and so the layer) is a new one.
        prefix = f"{context['AWS::StackName']}-"
        layers = lambda_.list_layers()["Layers"]
        arns = [layer["LatestMatchingVersion"]["LayerVersionArn"] for layer_id in layer_ids
                for layer in layers if layer["LayerName"].startswith(prefix + layer_id)][:len(layer_ids)]
        attached = [layer["Arn"] for layer in config.get("Layers") or []]
        if len(arns) != len(layer_ids):
            yield Fixup(logical_id, name, "Layers", "not applied", f"no local layer version for {layer_ids}")
        elif attached == arns:
            yield Fixup(logical_id, name, "Layers", "already set")
        else:
            lambda_.update_function_configuration(FunctionName=name, Layers=arns)
            yield Fixup(logical_id, name, "Layers", "applied", ", ".join(arns))
    for layer_id in layer_ids:
        wanted = (template["Resources"][layer_id].get("Properties") or {}).get("LayerName")
        if wanted is not None:
            yield Fixup(layer_id, resolve(wanted, context), "LayerName", "not applied",
                        "moto's CloudFormation names the layer <stack>-<LogicalId>-<random>; a layer cannot be renamed")
    tracing = props.get("TracingConfig", {}).get("Mode")
    if tracing and config.get("TracingConfig", {}).get("Mode") != tracing:
        lambda_.update_function_configuration(FunctionName=name, TracingConfig={"Mode": tracing})
        yield Fixup(logical_id, name, "TracingConfig", "applied")
    architectures = props.get("Architectures")
    if architectures and config.get("Architectures") != architectures:
        yield Fixup(logical_id, name, "Architectures", "not applied",
                    f"moto keeps {config.get('Architectures')}; the local runner runs the handler on this machine")


def _table_fixups(dynamodb: Any, logical_id: str, name: str, props: Mapping[str, Any]) -> Iterator[Fixup]:
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        wanted = bool(pitr.get("PointInTimeRecoveryEnabled"))
        described = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = described.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if (status == "ENABLED") == wanted:
            yield Fixup(logical_id, name, "PointInTimeRecoverySpecification", "already set")
        else:
            dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": wanted})
            yield Fixup(logical_id, name, "PointInTimeRecoverySpecification", "applied")
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        described = dynamodb.describe_table(TableName=name)["Table"]
        if described.get("SSEDescription", {}).get("Status") == "ENABLED":
            yield Fixup(logical_id, name, "SSESpecification", "already set")
        else:
            yield Fixup(logical_id, name, "SSESpecification", "not applied",
                        "moto's UpdateTable ignores SSESpecification; nothing is encrypted locally")


# -- the deployed stack as the local runner sees it


def stack_resources(client: Callable[[str], Any], stack_name: str) -> LocalResources:
    """A deployed stack's buckets, table, queues (from its outputs) and its function's environment
    (from Lambda), the shape `LocalFunction` runs the handler with."""
    cfn = client("cloudformation")
    stack = _describe(cfn, stack_name)
    if stack is None:
        raise DeployError(f"no stack {stack_name!r} in the local CloudFormation: deploy it first "
                          "(`archiver local deploy --stack NAME`)")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    physical_ids = _physical_ids(cfn, stack_name)
    missing = sorted(set(SERVED_OUTPUTS) - set(outputs))
    if missing:
        raise DeployError(f"stack {stack_name!r} has no outputs {missing} (was it created through a change set? "
                          "moto gives those no Outputs; deploy with `archiver local deploy`)")
    function = client("lambda").get_function_configuration(FunctionName=outputs["ArchiverFunctionName"])
    return LocalResources(
        inbox_bucket=outputs["InboxBucketName"],
        archive_bucket=outputs["ArchiveBucketName"],
        table_name=outputs["TableName"],
        queue_url=outputs["InboxQueueUrl"],
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
        environment={k: str(v) for k, v in function.get("Environment", {}).get("Variables", {}).items()},
        physical_ids=physical_ids,
        fetch_queue_url=outputs["FetchQueueUrl"],
    )


def archive_through_stack(aws: Any, stack_name: str, paths: list[Path]) -> list[dict[str, Any]]:
    """Drop files into a deployed stack's inbox and run its function on what its queue delivers.

    The handler runs in-process (moto runs no Lambda without Docker) with the environment Lambda
    holds for the stack's function, as `archiver local ingest` does for the template's resources.
    """
    from archiver.local.keys import inbox_keys
    from archiver.local.runner import LocalFunction, drop_files

    resources = stack_resources(aws.client, stack_name)
    function = LocalFunction(aws, resources)
    dropped = drop_files(aws.client("s3"), function.store, resources.inbox_bucket, paths, inbox_keys(paths))
    function.drain_queue()
    lines = []
    for drop in dropped:
        if drop.refused:
            lines.append({"stack": stack_name, **drop.line()})
            continue
        record = function.store.get_outcome(resources.inbox_bucket, drop.key) or {"status": "not_processed"}
        lines.append({"stack": stack_name, "key": drop.key, "status": record["status"],
                      "post_ids": record.get("post_ids", []), "error": record.get("error")})
    return lines


def serve_stack(stack_name: str, parameters: Mapping[str, str] | None = None) -> Callable[[Any], LocalResources]:
    """For `archiver local up --stack NAME`: deploy the stack into the started local AWS and name its
    resources from the stack's outputs (and its function's environment from Lambda)."""

    def resources_for(aws: Any) -> LocalResources:
        deployment = deploy_stack(stack_name, endpoint_url=aws.endpoint_url, template_path=aws.template_path,
                                  parameters=parameters, clients=aws.client)
        print(deployment.report(), file=sys.stderr, flush=True)
        return stack_resources(aws.client, stack_name)

    return resources_for


# -- helpers


def _physical_ids(cfn: Any, stack_name: str) -> dict[str, str]:
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")}


def _client_factory(endpoint_url: str) -> Callable[[str], Any]:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=REGION)
    config = Config(retries={"max_attempts": 2})  # a local server either answers or is not there
    return lambda service: session.client(service, endpoint_url=endpoint_url, config=config)


def _ensure_bucket(s3: Any, name: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=name)


def _describe(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def _stack_exists(cfn: Any, stack_name: str) -> bool:
    stack = _describe(cfn, stack_name)
    return stack is not None and stack["StackStatus"] != "DELETE_COMPLETE"


def _wait(cfn: Any, stack_name: str) -> dict[str, Any]:
    for _ in range(MAX_STATUS_POLLS):
        stack = _describe(cfn, stack_name)
        status = stack["StackStatus"] if stack else "missing"
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or status == "missing":
            events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"] if stack else []
            reasons = [f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
                       for e in events if "FAILED" in e["ResourceStatus"] and e.get("ResourceStatusReason")]
            raise DeployError(f"stack {stack_name!r} is {status}: {'; '.join(reasons) or 'no reason given'}")
    raise DeployError(f"stack {stack_name!r} is still {status} after {MAX_STATUS_POLLS} polls")


def _stack_context(client: Callable[[str], Any], stack: Mapping[str, Any], template: Mapping[str, Any],
                   physical_ids: Mapping[str, str]) -> dict[str, Any]:
    """A resolve() context for the deployed stack: parameters, pseudo parameters, Ref and Arn of its resources."""
    arn_parts = stack["StackId"].split(":")
    context: dict[str, Any] = {
        "AWS::StackName": stack["StackName"], "AWS::StackId": stack["StackId"], "AWS::Region": arn_parts[3],
        "AWS::AccountId": arn_parts[4], "AWS::Partition": arn_parts[1], "AWS::URLSuffix": "amazonaws.com",
    }
    for name, spec in (template.get("Parameters") or {}).items():
        if "Default" in spec:
            context[name] = str(spec["Default"])
    context.update({p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters") or []})
    sqs = client("sqs")
    for logical_id, physical_id in physical_ids.items():
        resource_type = template["Resources"].get(logical_id, {}).get("Type")
        context[logical_id] = physical_id
        if resource_type == "AWS::S3::Bucket":
            context[f"{logical_id}.Arn"] = f"arn:{context['AWS::Partition']}:s3:::{physical_id}"
        elif resource_type == "AWS::SQS::Queue":
            attributes = sqs.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["QueueArn"])["Attributes"]
            context[f"{logical_id}.Arn"] = attributes["QueueArn"]
            context[f"{logical_id}.QueueName"] = attributes["QueueArn"].rsplit(":", 1)[1]
    return context

