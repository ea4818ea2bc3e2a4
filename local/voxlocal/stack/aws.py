"""AWS for the local stack: moto's server with what ``template.yaml`` declares.

The bucket, the acta queue and its dead-letter queue, the sender identity, the
configuration set and the topics are created with the properties the template
gives them, its parameters and mappings resolved (:mod:`voxlocal.template_env`);
only their names are local (``voxcliente-<role>-<suffix>``). What a local run
changes on purpose is an argument: a versioned bucket, a shorter visibility.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voxlocal import template as cfn
from voxlocal.stack.console import Progress
from voxlocal.stack.environment import REGION, StackError
from voxlocal.template_env import Stack

# SenderEmail has no default in the template (it is the operator's address).
DEFAULT_SENDER = "actas@voxcliente.example"


@dataclass(frozen=True)
class LocalAws:
    """What :func:`create_aws_resources` made, as the functions' settings name it."""

    endpoint: str
    bucket: str
    queue_url: str
    dlq_url: str
    sender: str
    configuration_set: str | None  # None: a minimal set (no configuration set)


def start_moto(
    stack: contextlib.ExitStack,
    credentials: Mapping[str, str] | None,
    *,
    bind: str = "127.0.0.1",
    port: int = 0,
) -> str:
    """moto's server until the stack closes; its endpoint (on loopback).

    With ``credentials`` (access key id -> secret) it is the strict server that
    checks presigned POST policies; without, moto's own (``make services``: the
    functions in ``sam local`` sign with whatever credentials they find).
    """
    import logging

    from voxlocal.aws_doubles import StrictMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
    server: Any
    if credentials is None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address=bind, port=port, verbose=False)
    else:
        server = StrictMotoServer(credentials, ip_address=bind, port=port)
    server.start()
    stack.callback(server.stop)
    _, bound_port = server.get_host_and_port()
    return f"http://127.0.0.1:{bound_port}"


def create_aws_resources(
    endpoint: str,
    *,
    suffix: str = "local",
    sender: str | None = None,
    versioned: bool = False,
    visibility_timeout_s: int | None = None,
    minimal: bool = False,
    web_origins: Sequence[str] | None = None,
) -> LocalAws:
    """Create in moto what template.yaml declares for the pipeline, named
    ``voxcliente-<role>-<suffix>`` and configured with the template's properties.

    ``versioned``: a bucket with versioning (the demo: every run is a new upload,
    hence a new meeting, even with the same file). ``visibility_timeout_s``
    replaces the template's, so that a failed message comes back in seconds.
    ``minimal``: only what the functions call (the bucket without its settings,
    the queues, the sender), for the tests, which build it again for every test
    (moto answers each call in tens of milliseconds). ``web_origins`` replaces the
    template's ``WebOrigins`` in the bucket's CORS rules (``make up``: the local page
    posts its uploads to moto as a deployed page does to S3).
    """
    template, declared = _declared()
    _require(template, "AWS::S3::Bucket", "AudioBucket")
    _require(template, "AWS::SQS::Queue", "ActaQueue", "ActaDeadLetterQueue")
    _require(template, "AWS::SES::ConfigurationSet", "EmailConfigurationSet")

    def client(service: str) -> Any:
        return _session().client(service, endpoint_url=endpoint)

    bucket = f"voxcliente-audio-{suffix}"
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if not minimal:
        _configure_bucket(s3, bucket, _properties(declared, "AudioBucket"), web_origins)

    sqs = client("sqs")
    dlq_url = _create_queue(sqs, f"voxcliente-acta-dlq-{suffix}", declared, "ActaDeadLetterQueue")
    extra: dict[str, Any] = {}
    if visibility_timeout_s is not None:
        extra["VisibilityTimeout"] = visibility_timeout_s
    redrive = _properties(declared, "ActaQueue").get("RedrivePolicy") or {}
    if "maxReceiveCount" not in redrive:
        raise StackError("template.yaml gives ActaQueue no RedrivePolicy maxReceiveCount.")
    extra["RedrivePolicy"] = {
        "deadLetterTargetArn": _queue_arn(dlq_url),
        "maxReceiveCount": int(redrive["maxReceiveCount"]),
    }
    queue_url = _create_queue(sqs, f"voxcliente-acta-{suffix}", declared, "ActaQueue", extra)

    address = sender or str(cfn.parameter_default(template, "SenderEmail") or DEFAULT_SENDER)
    client("ses").verify_email_identity(EmailAddress=address)
    configuration_set = None
    if not minimal:
        configuration_set = f"voxcliente-email-{suffix}"
        client("sesv2").create_configuration_set(ConfigurationSetName=configuration_set)
        sns = client("sns")
        for name in cfn.resources_of_type(template, "AWS::SNS::Topic"):
            sns.create_topic(Name=f"voxcliente-{name}-{suffix}")
    return LocalAws(endpoint, bucket, queue_url, dlq_url, address, configuration_set)


def _queue_arn(queue_url: str) -> str:
    """A moto queue's ARN from its URL (``<endpoint>/<account>/<name>``), without a call."""
    account, name = queue_url.rstrip("/").rsplit("/", 2)[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


@functools.cache
def _declared() -> tuple[dict[str, Any], Stack]:
    """The template, and it resolved as one stack with its defaults (read once a process:
    the tests build the resources again for every test)."""
    template = cfn.load()
    return template, Stack(region=REGION, template=template)


@functools.cache
def _session() -> Any:
    """One boto3 session: its clients share the service models it loaded."""
    import boto3

    return boto3.session.Session(region_name=REGION)


def _require(template: dict[str, Any], kind: str, *names: str) -> None:
    missing = [n for n in names if n not in cfn.resources_of_type(template, kind)]
    if missing:
        raise StackError(f"template.yaml declares no {kind} {', '.join(missing)}.")


def _properties(declared: Stack, logical_id: str) -> dict[str, Any]:
    """A resource's properties with the template's parameters and mappings resolved."""
    node = declared.resources[logical_id].get("Properties") or {}
    resolved: dict[str, Any] = declared.resolve(node, logical_id)
    return resolved


def _configure_bucket(
    s3: Any, bucket: str, props: Mapping[str, Any], web_origins: Sequence[str] | None = None
) -> None:
    """The template's encryption, public access block, CORS and lifecycle on the
    bucket (CloudFormation's property shapes turned into the S3 API's)."""
    encryption = [
        {
            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
            **(
                {"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}
            ),
        }
        for rule in (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
        or []
    ]
    if encryption:
        s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": encryption}
        )
    versioning = props.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": versioning["Status"]}
        )
    if props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    cors = [
        {
            **{k: v for k, v in rule.items() if k not in ("ExposedHeaders", "MaxAge")},
            **({"ExposeHeaders": rule["ExposedHeaders"]} if "ExposedHeaders" in rule else {}),
            **({"MaxAgeSeconds": int(rule["MaxAge"])} if "MaxAge" in rule else {}),
            **({"AllowedOrigins": list(web_origins)} if web_origins is not None else {}),
        }
        for rule in (props.get("CorsConfiguration") or {}).get("CorsRules") or []
    ]
    if cors:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})
    lifecycle = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    rules = [_lifecycle_rule(rule) for rule in lifecycle]
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": rules}
        )


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    expiration: dict[str, Any] = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpiredObjectDeleteMarker"):
        expiration["ExpiredObjectDeleteMarker"] = True
    if expiration:
        api["Expiration"] = expiration
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
        }
    return api


# Properties of AWS::SQS::Queue that are not queue attributes.
_NOT_QUEUE_ATTRIBUTES = ("QueueName", "Tags")


def _create_queue(
    sqs: Any,
    name: str,
    declared: Stack,
    logical_id: str,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """A queue with the template's properties as attributes (they share their names)."""
    props = {**_properties(declared, logical_id), **(overrides or {})}
    attributes = {
        key: json.dumps(value) if isinstance(value, dict) else _attribute(value)
        for key, value in props.items()
        if key not in _NOT_QUEUE_ATTRIBUTES
    }
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def _attribute(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def start_aws(
    stack: contextlib.ExitStack,
    progress: Progress,
    *,
    port: int = 0,
    visibility_timeout_s: int = 5,
    web_origins: Sequence[str] | None = None,
    fresh: bool = False,
) -> LocalAws:
    """The strict moto server with the template's resources (the demo, ``make load``,
    ``make up``); ``port`` 0 is any free one. ``fresh``: empty moto's state first (it
    is kept per process, and a test session shares one with other moto servers)."""
    from voxlocal.aws_doubles import strict_ses

    with progress.stage("AWS emulated by moto (S3, SQS, SES, SNS) from template.yaml"):
        # As strict as AWS where moto is not: presigned POST policies are enforced,
        # SES refuses an unverified sender and a message over 40 MB.
        stack.enter_context(strict_ses())
        credentials = {os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]}
        endpoint = start_moto(stack, credentials, port=port)
        if fresh:
            _reset(endpoint)
        aws = create_aws_resources(
            endpoint,
            versioned=True,
            visibility_timeout_s=visibility_timeout_s,
            web_origins=web_origins,
        )
    progress.note(f"moto server at {endpoint}: bucket {aws.bucket}, acta queue + DLQ")
    return aws


def _reset(endpoint: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def sent_messages() -> list[Any]:
    """What SES accepted, as moto's SES backend keeps it (moto runs in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
