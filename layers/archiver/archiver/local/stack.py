"""The embedded local AWS: moto's server on 127.0.0.1 with the resources of template.yaml.

    with LocalAWS() as aws:
        resources = aws.create_resources()
        boto3.client("s3").put_object(Bucket=resources.inbox_bucket, Key="a.md", Body=b"...")

Inside the block boto3 talks HTTP to the moto server (AWS_ENDPOINT_URL and dummy credentials
are set in os.environ, and restored on exit). Resources are created from the template's own
Properties, so template.yaml stays the single source of truth; moto's server delivers the inbox's
ObjectCreated notifications to the inbox queue as S3 does. DynamoDB requests are handled one at a
time, so that conditional updates are atomic as in AWS (`serialized_dynamodb_server`). moto keeps
its state per process, not per server: nested LocalAWS blocks share it, and only the outermost one
starts from a clean state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from archiver.errors import ArchiverError
from archiver.local.template import (
    TemplateError,
    base_context,
    find_template,
    function_environment,
    load_template,
    resolve,
)

REGION = "us-east-1"

# Logical ids of template.yaml that the library and the local runner need by name.
INBOX_BUCKET_ID = "InboxBucket"
ARCHIVE_BUCKET_ID = "ArchiveBucket"
TABLE_ID = "ArchiveTable"
QUEUE_ID = "InboxQueue"
DEAD_LETTER_QUEUE_ID = "InboxDeadLetterQueue"
FETCH_QUEUE_ID = "FetchQueue"

# Resource types with no local meaning, skipped on purpose (and only here):
# - the function and its layer: moto cannot run Lambda without Docker; the local runner calls
#   the handler in-process with Lambda-shaped events instead;
# - IAM roles and queue/topic policies: moto does not enforce them by default. Bucket policies
#   are not in this list: they are created, so that a malformed one fails locally too;
# - schedules, event source mappings and permissions that SAM generates from the function;
# - CloudWatch alarms and dashboards: no metrics flow locally (the handler's metrics go to its log);
# - the re-processing state machine and its log group: `archiver reprocess` runs the same work locally
#   (moto stores state machine definitions but cannot run a Distributed Map; see docs/reprocess.md).
IGNORED_TYPES = frozenset(
    {
        "AWS::Serverless::Function",
        "AWS::Serverless::LayerVersion",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::StepFunctions::StateMachine",
        "AWS::Logs::LogGroup",
    }
)

# CloudFormation AWS::SQS::Queue properties that are SQS queue attributes of the same name.
_SQS_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)

# Environment variables that would point boto3 elsewhere; removed inside the block.
_CLEARED_ENV_PREFIXES = ("AWS_ENDPOINT_URL_",)
_CLEARED_ENV = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

_ENCRYPTION_KEYS = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")  # ${Name} or ${Name.Attr}, not ${!Literal}


@dataclass(frozen=True)
class LocalResources:
    """Names of the created resources, and the function's environment resolved against them."""

    inbox_bucket: str
    archive_bucket: str
    table_name: str
    queue_url: str
    dead_letter_queue_url: str
    environment: dict[str, str]
    # Every created resource's Ref value by logical id (bucket/table name, queue URL).
    physical_ids: dict[str, str] = field(default_factory=dict)
    fetch_queue_url: str = ""


class LocalAWS:
    """Context manager: a moto server on 127.0.0.1 (a free port, or `port`), boto3 pointed at it meanwhile."""

    _active: ClassVar[int] = 0  # LocalAWS blocks open in this process (they share moto's state)

    def __init__(self, template_path: str | Path | None = None, parameters: Mapping[str, Any] | None = None,
                 *, port: int = 0):
        self.port = port  # 0: a free port chosen by the system
        self.template_path = Path(template_path) if template_path else find_template()
        self.template = load_template(self.template_path)
        self.parameters = dict(parameters or {})
        self.resources: LocalResources | None = None
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._endpoint_url: str | None = None
        self._saved_log_level = logging.NOTSET

    @property
    def endpoint_url(self) -> str:
        """http://127.0.0.1:PORT of the running moto server."""
        if self._endpoint_url is None:
            raise RuntimeError("LocalAWS is not started; use it as a context manager")
        return self._endpoint_url

    def __enter__(self) -> LocalAWS:
        # werkzeug logs every request at INFO; the local stack should be quiet unless asked.
        request_log = logging.getLogger("werkzeug")
        self._saved_log_level = request_log.level
        if request_log.level == logging.NOTSET:
            request_log.setLevel(logging.WARNING)
        if self.port:
            ensure_port_free(self.port)  # moto's server thread would hang on a taken port, not fail
        self._server = serialized_dynamodb_server(self.port)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint_url = f"http://{host}:{port}"
        self._set_environment()
        if LocalAWS._active == 0:
            self.reset_state()
        LocalAWS._active += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        LocalAWS._active -= 1
        self._restore_environment()
        self._server.stop()
        logging.getLogger("werkzeug").setLevel(self._saved_log_level)
        self._server = None
        self._endpoint_url = None

    def client(self, service: str) -> Any:
        """A boto3 client bound to the local endpoint (whatever os.environ says later)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset_state(self) -> None:
        """Forget every resource and object in moto (process-wide; see the module docstring)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        self.resources = None

    def reset(self) -> LocalResources:
        """Start over: an empty moto, then the template's resources created again."""
        self.reset_state()
        return self.create_resources()

    def create_resources(self) -> LocalResources:
        """Create the template's buckets, queues and table in dependency order; return their names."""
        resources = self.template["Resources"]
        context = base_context(self.template, self.parameters)
        context["AWS::Region"] = REGION
        creators = {
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::S3::BucketPolicy": self._create_bucket_policy,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::DynamoDB::Table": self._create_table,
        }
        for logical_id in creation_order(resources):
            resource_type = resources[logical_id]["Type"]
            if resource_type in IGNORED_TYPES:
                continue
            creator = creators.get(resource_type)
            if creator is None:
                raise TemplateError(
                    f"{logical_id}: {resource_type} has no local equivalent; create it in "
                    "archiver/local/stack.py or list it in IGNORED_TYPES"
                )
            properties = resolve(resources[logical_id].get("Properties") or {}, context)
            context.update(creator(logical_id, properties, context))

        physical_ids = {
            logical_id: str(context[logical_id])
            for logical_id, resource in resources.items()
            if resource["Type"] in creators and logical_id in context
        }
        self.resources = LocalResources(
            inbox_bucket=physical_ids[INBOX_BUCKET_ID],
            archive_bucket=physical_ids[ARCHIVE_BUCKET_ID],
            table_name=physical_ids[TABLE_ID],
            queue_url=physical_ids[QUEUE_ID],
            dead_letter_queue_url=physical_ids[DEAD_LETTER_QUEUE_ID],
            environment=function_environment(self.template, context),
            physical_ids=physical_ids,
            fetch_queue_url=physical_ids.get(FETCH_QUEUE_ID, ""),
        )
        return self.resources

    # -- one creator per resource type: (logical id, resolved Properties, context) -> attributes

    def _default_name(self, logical_id: str, context: Mapping[str, Any]) -> str:
        # CloudFormation would add a random suffix; a stable name is friendlier locally.
        return f"{context['AWS::StackName']}-{logical_id}"

    def _create_bucket(self, logical_id: str, props: dict[str, Any], context: Mapping[str, Any]) -> dict:
        s3 = self.client("s3")
        name = props.get("BucketName") or self._default_name(logical_id, context).lower()
        # A nested LocalAWS sharing moto's state may have made it already.
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        if "BucketEncryption" in props:
            rules = [
                # CloudFormation says ServerSideEncryptionByDefault where the S3 API says Apply...
                {_ENCRYPTION_KEYS.get(key, key): value for key, value in rule.items()}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [
                    lifecycle_rule(logical_id, rule) for rule in props["LifecycleConfiguration"]["Rules"]]})
        # LoggingConfiguration is not applied: moto does not deliver server access logs.
        if "NotificationConfiguration" in props:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration=notification_configuration(logical_id, props["NotificationConfiguration"]),
            )
        arn = f"arn:{context['AWS::Partition']}:s3:::{name}"
        return {
            logical_id: name,
            f"{logical_id}.Arn": arn,
            f"{logical_id}.DomainName": f"{name}.s3.amazonaws.com",
            f"{logical_id}.RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        }

    def _create_bucket_policy(self, logical_id: str, props: dict[str, Any], context: Mapping[str, Any]) -> dict:
        policy = local_bucket_policy(props["PolicyDocument"])
        if policy["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(policy))
        return {logical_id: props["Bucket"]}

    def _create_queue(self, logical_id: str, props: dict[str, Any], context: Mapping[str, Any]) -> dict:
        sqs = self.client("sqs")
        name = props.get("QueueName") or self._default_name(logical_id, context)
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"  # as CloudFormation names a FIFO queue it names itself
        attributes = {}
        for key in _SQS_ATTRIBUTES:
            if key in props:
                value = props[key]
                if isinstance(value, dict):
                    value = json.dumps(value)
                elif isinstance(value, bool):
                    value = str(value).lower()
                attributes[key] = str(value)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:{context['AWS::Partition']}:sqs:{REGION}:{context['AWS::AccountId']}:{name}"
        return {
            logical_id: url,
            f"{logical_id}.Arn": arn,
            f"{logical_id}.QueueName": name,
            f"{logical_id}.QueueUrl": url,
        }

    def _create_table(self, logical_id: str, props: dict[str, Any], context: Mapping[str, Any]) -> dict:
        dynamodb = self.client("dynamodb")
        name = props.get("TableName") or self._default_name(logical_id, context)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if key in props:
                request[key] = props[key]
        if "SSESpecification" in props:
            sse = props["SSESpecification"]
            request["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled")),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        try:
            description = dynamodb.create_table(**request)["TableDescription"]
        except dynamodb.exceptions.ResourceInUseException:
            description = dynamodb.describe_table(TableName=name)["Table"]
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))
                },
            )
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        attributes = {logical_id: name, f"{logical_id}.Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes[f"{logical_id}.StreamArn"] = description["LatestStreamArn"]
        return attributes

    # -- environment

    def _set_environment(self) -> None:
        wanted = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,  # what Lambda sets; some libraries read it instead
        }
        cleared = [*_CLEARED_ENV, *(k for k in os.environ if k.startswith(_CLEARED_ENV_PREFIXES))]
        self._saved_env = {key: os.environ.get(key) for key in [*wanted, *cleared]}
        for key in cleared:
            os.environ.pop(key, None)
        os.environ.update(wanted)

    def _restore_environment(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}


# The services whose requests the local server handles one at a time (see serialized_dynamodb_server).
SERIALIZED_SERVICES = frozenset({"dynamodb"})


def serialized_dynamodb_server(port: int = 0) -> Any:
    """moto's threaded server on 127.0.0.1, handling DynamoDB requests one at a time.

    moto answers each request on its own thread, and its UpdateItem reads, checks the condition and
    writes without a lock: concurrent conditional counter updates (`SET version = version + 1`) then
    return one value twice, which real DynamoDB never does, and two local writers would claim one post
    version. One lock around the DynamoDB app makes every table request atomic, as in AWS.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.server import ThreadedMotoServer  # heavy: only when a local stack is wanted
    from werkzeug.serving import make_server

    lock = threading.Lock()

    def backend_app(service: str) -> Any:
        app = create_backend_app(service)
        if service in SERIALIZED_SERVICES:
            app.wsgi_app = _serialized(app.wsgi_app, lock)
        return app

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:  # ThreadedMotoServer's own, with the app above (moto 5.2.5)
            self._server = make_server(self._ip_address, self._port, DomainDispatcherApplication(backend_app),
                                       True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address="127.0.0.1", port=port, verbose=False)


def _serialized(wsgi_app: Any, lock: threading.Lock) -> Any:
    def handle(environ: dict[str, Any], start_response: Any) -> Any:
        with lock:  # moto builds the whole response inside the call: the update is done when it returns
            return wsgi_app(environ, start_response)

    return handle


class PortInUse(ArchiverError):
    """The fixed port asked for is taken (another `archiver local up`, LocalStack, moto...)."""

    code = "port_in_use"
    stage = "local"


def ensure_port_free(port: int) -> None:
    """Raise PortInUse if 127.0.0.1:`port` cannot be bound (as the server binds it: address reuse on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(f"port {port} on 127.0.0.1 is taken ({exc.strerror}): stop what uses it, "
                            "or choose another with --port") from exc


def local_bucket_policy(document: Mapping[str, Any]) -> dict[str, Any]:
    """The bucket policy without its conditional Deny statements.

    moto enforces Principal "*" statements but ignores their Condition, so the template's
    "deny unless aws:SecureTransport" would deny every local request (the endpoint is plain HTTP
    on loopback). Everything else in the policy is kept and enforced as moto can.
    """
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [st for st in statements if not (st.get("Effect") == "Deny" and st.get("Condition"))]
    return {**document, "Statement": kept}


def lifecycle_rule(logical_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (the properties this template uses)."""
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    expiration = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = bool(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        api["Expiration"] = expiration
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "ExpiredObjectDeleteMarker", "NoncurrentVersionExpiration",
             "AbortIncompleteMultipartUpload"}
    if set(rule) - known:
        raise TemplateError(f"{logical_id}: lifecycle rule properties {sorted(set(rule) - known)} have no local "
                            "equivalent yet; add them to archiver/local/stack.py")
    return api


def notification_configuration(logical_id: str, cfn: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration shape -> S3 PutBucketNotificationConfiguration's."""
    api: dict[str, Any] = {}
    queues = []
    for item in cfn.get("QueueConfigurations", []):
        queue = {"QueueArn": item["Queue"], "Events": [item["Event"]]}
        rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
        if rules:
            queue["Filter"] = {"Key": {"FilterRules": rules}}
        queues.append(queue)
    if queues:
        api["QueueConfigurations"] = queues
    if cfn.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        api["EventBridgeConfiguration"] = {}  # moto accepts it but does not keep it
    unsupported = set(cfn) - {"QueueConfigurations", "EventBridgeConfiguration"}
    if unsupported:
        raise TemplateError(f"{logical_id}: notification targets {sorted(unsupported)} have no local equivalent")
    return api


def creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids ordered so that every resource comes after those it references (Ref, GetAtt,
    Sub, DependsOn); ties keep template order. Raises TemplateError on a cycle."""
    dependencies = {
        logical_id: {dep for dep in references(resource, resources) if dep != logical_id}
        for logical_id, resource in resources.items()
    }
    ordered: list[str] = []
    done: set[str] = set()
    while len(ordered) < len(resources):
        ready = [lid for lid in resources if lid not in done and dependencies[lid] <= done]
        if not ready:
            pending = sorted(set(resources) - done)
            raise TemplateError(f"circular dependency among {pending}")
        ordered.extend(ready)
        done.update(ready)
    return ordered


def references(resource: Mapping[str, Any], resources: Mapping[str, Any]) -> set[str]:
    """The logical ids of `resources` that `resource` names (Ref, GetAtt, Sub, DependsOn)."""
    depends_on = resource.get("DependsOn") or []
    found = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    found.update(_walk_references(resource.get("Properties") or {}))
    return {name for name in found if name in resources}


def _walk_references(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _walk_references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                yield arg
            elif key == "Fn::GetAtt":
                yield arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                for name in _sub_names(text):
                    yield name.split(".", 1)[0]
                yield from _walk_references(arg)
            else:
                yield from _walk_references(arg)


def _sub_names(text: Any) -> list[str]:
    return _SUB_NAME.findall(text) if isinstance(text, str) else []
