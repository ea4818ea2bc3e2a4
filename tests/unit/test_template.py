"""template.yaml: what a deploy must get right, checked without AWS.

The template is read with a YAML loader that keeps CloudFormation's short
tags (``!Ref X`` becomes ``{"Ref": "X"}``), so the assertions look at the
same structure CloudFormation sees. Permissions are checked per function
against the list each one is allowed (least privilege, stack resources only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# The nested applications (logical id in template.yaml -> its template).
NESTED = {
    "Network": ROOT / "templates" / "network.yaml",
    "Database": ROOT / "templates" / "database.yaml",
}

FUNCTIONS = (
    "UploadApiFunction",
    "AccountApiFunction",
    "SubmitFunction",
    "WebhookFunction",
    "ActaFunction",
    "EmailEventsFunction",
    "ReconcilerFunction",
    "MigrateFunction",
)

# Every IAM action each function's own policies may grant (SAM adds the SQS
# poller for Acta's event source and sqs:SendMessage for on-failure destinations).
# Erasing a meeting's objects: every version of them (the bucket is versioned).
ERASE_OBJECTS = {
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
}
# Lambda's on-failure destination writes to the encrypted failed-events queue with
# the function's own role.
SEND_ENCRYPTED = {"kms:GenerateDataKey", "kms:Decrypt"}
ALLOWED_ACTIONS: dict[str, set[str]] = {
    "UploadApiFunction": {
        "s3:PutObject",
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
        "ses:SendRawEmail",
    },
    "AccountApiFunction": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        *ERASE_OBJECTS,
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
    },
    "SubmitFunction": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
        *SEND_ENCRYPTED,
    },
    "WebhookFunction": {"secretsmanager:GetSecretValue", "sqs:SendMessage"},
    "ActaFunction": {
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
        "ses:SendRawEmail",
        "s3:PutObject",
        "s3:GetObject",
    },
    "EmailEventsFunction": {"secretsmanager:GetSecretValue", *SEND_ENCRYPTED},
    "ReconcilerFunction": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        *ERASE_OBJECTS,
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "kms:Decrypt",
        "cloudwatch:PutMetricData",
    },
    "MigrateFunction": {"secretsmanager:GetSecretValue"},
}

# Which secrets (logical ids; "db" = the database secret) each function may read.
ALLOWED_SECRETS: dict[str, set[str]] = {
    "UploadApiFunction": {"db"},
    "AccountApiFunction": {"AssemblyAiSecret", "db"},
    "SubmitFunction": {"AssemblyAiSecret", "WebhookSecret", "db"},
    "WebhookFunction": {"WebhookSecret", "AssemblyAiSecret", "db"},
    "ActaFunction": {"AssemblyAiSecret", "OpenAiSecret", "db"},
    "EmailEventsFunction": {"db"},
    "ReconcilerFunction": {"AssemblyAiSecret", "WebhookSecret", "db"},
    "MigrateFunction": {"db"},
}


# --- loading ------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Tag value`` into ``{"Fn::Tag": value}``."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TypeError(f"unexpected YAML node {node!r}")
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)  # type: ignore[no-untyped-call]


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return _load(TEMPLATE)


@pytest.fixture(scope="module")
def nested() -> dict[str, dict[str, Any]]:
    return {name: _load(path) for name, path in NESTED.items()}


@pytest.fixture(scope="module")
def database(nested: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The database template's resources."""
    return dict(nested["Database"]["Resources"])


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


def _props(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(resources[logical_id].get("Properties", {}))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _function_setting(template: dict[str, Any], name: str, key: str) -> Any:
    own = template["Resources"][name]["Properties"]
    return own.get(key, template["Globals"]["Function"].get(key))


def _default(template: dict[str, Any], node: Any) -> Any:
    """A literal, or a parameter's / mapping's value with the parameters' defaults."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return template["Parameters"][node["Ref"]]["Default"]
    if isinstance(node, dict) and set(node) == {"Fn::FindInMap"}:
        name, top, second = (str(_default(template, key)) for key in node["Fn::FindInMap"])
        return template["Mappings"][name][top][second]
    return node


def _statements(policies: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in _as_list(policies or []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(_as_list(policy["Statement"]))
        elif isinstance(policy, dict) and "PolicyDocument" in policy:
            found.extend(_as_list(policy["PolicyDocument"]["Statement"]))
        else:
            # A managed policy name or a SAM policy template: not used here on
            # purpose (every grant is spelled out), so fail loudly.
            pytest.fail(f"unexpected policy form {policy!r}: spell the statement out")
    return found


def _all_statements(node: Any) -> list[dict[str, Any]]:
    """Every IAM statement anywhere in the template (roles, policies, bucket policy)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            found.append(node)
        for value in node.values():
            found.extend(_all_statements(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_all_statements(value))
    return found


def _refs(node: Any) -> set[str]:
    """Logical ids referenced (Ref / GetAtt / ${X} in Sub) anywhere in node."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", str(text)))
                found |= _refs(value[1] if isinstance(value, list) else None)
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


# --- functions ------------------------------------------------------------------


def test_the_skeleton_logical_ids_are_kept(resources: dict[str, Any]) -> None:
    for logical_id in (
        "CommonLayer",
        "AudioBucket",
        "ActaQueue",
        "ActaDeadLetterQueue",
        "HttpApi",
        *FUNCTIONS,
    ):
        assert logical_id in resources, logical_id
    serverless = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert serverless == set(FUNCTIONS)


def test_the_layer_is_built_by_its_makefile_for_the_functions_architecture(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    layer = resources["CommonLayer"]
    # layers/common/Makefile (build-CommonLayer) picks the wheels and trims the layer.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert (ROOT / "layers" / "common" / "Makefile").read_text().count("build-CommonLayer:") == 1
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert layer["Properties"]["CompatibleRuntimes"] == [template["Globals"]["Function"]["Runtime"]]
    # The makefile's default architecture is the template's, for a plain `sam build`.
    default = template["Parameters"]["Architecture"]["Default"]
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert f"LAYER_ARCHITECTURE ?= {default}\n" in makefile


def test_globals_set_runtime_tracing_and_powertools(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    assert function_globals["Tracing"] == "Active"
    assert function_globals["LoggingConfig"]["LogFormat"] == "JSON"
    env = function_globals["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "voxcliente"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "VoxCliente"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_timeout_and_memory(template: dict[str, Any], name: str) -> None:
    timeout = _default(template, _function_setting(template, name, "Timeout"))
    memory = _function_setting(template, name, "MemorySize")
    assert isinstance(timeout, int) and 1 <= timeout <= 900
    assert isinstance(memory, int) and 128 <= memory <= 10240


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_logs_to_its_own_group_with_retention(
    resources: dict[str, Any], name: str
) -> None:
    log_group_ref = _props(resources, name)["LoggingConfig"]["LogGroup"]
    log_group = resources[log_group_ref["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_runs_in_the_vpc(template: dict[str, Any], name: str) -> None:
    vpc = _function_setting(template, name, "VpcConfig")
    assert vpc["SecurityGroupIds"] and vpc["SubnetIds"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_permissions_are_only_the_listed_ones(
    resources: dict[str, Any], name: str
) -> None:
    props = _props(resources, name)
    statements = _statements(props.get("Policies"))
    granted = {action for st in statements for action in _as_list(st["Action"])}
    assert granted <= ALLOWED_ACTIONS[name], granted - ALLOWED_ACTIONS[name]
    assert all(st["Effect"] == "Allow" for st in statements)
    for st in statements:
        for resource in _as_list(st["Resource"]):
            if resource == "*":
                # Only PutMetricData (no resource-level permissions), pinned to
                # the project's namespace.
                assert _as_list(st["Action"]) == ["cloudwatch:PutMetricData"]
                assert st["Condition"]["StringEquals"]["cloudwatch:namespace"] == "VoxCliente"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_reads_only_its_secrets(resources: dict[str, Any], name: str) -> None:
    statements = _statements(_props(resources, name).get("Policies"))
    secret_statements = [
        st for st in statements if "secretsmanager:GetSecretValue" in _as_list(st["Action"])
    ]
    read: set[str] = set()
    for st in secret_statements:
        for resource in _as_list(st["Resource"]):
            refs = _refs(resource)
            read |= {"db"} if "Database" in refs else refs
    assert read == ALLOWED_SECRETS[name]


def test_s3_permissions_are_scoped_to_prefixes_of_the_audio_bucket(
    resources: dict[str, Any],
) -> None:
    """Object actions name prefixes of the audio bucket, each function only those it
    works on; listing (to find an object's versions to erase) names the bucket."""
    bucket = _props(resources, "AudioBucket")["BucketName"]["Fn::Sub"]
    bucket_arn = f"arn:${{AWS::Partition}}:s3:::{bucket}"
    everything = {"uploads/*", "inbox/*", "actas/*", "transcripts/*"}
    expected = {
        "UploadApiFunction": {"s3:PutObject": {"uploads/*"}},
        "AccountApiFunction": {
            "s3:GetObject": everything,
            "s3:GetObjectVersion": {"uploads/*", "inbox/*"},
            "s3:DeleteObject": everything,
            "s3:DeleteObjectVersion": everything,
        },
        "SubmitFunction": {
            "s3:GetObject": {"uploads/*", "inbox/*"},
            "s3:GetObjectVersion": {"uploads/*", "inbox/*"},
        },
        "ActaFunction": {
            "s3:PutObject": {"actas/*", "transcripts/*"},
            "s3:GetObject": {"actas/*", "transcripts/*"},
        },
        "ReconcilerFunction": {
            "s3:GetObject": {"uploads/*", "inbox/*"},
            "s3:GetObjectVersion": {"uploads/*", "inbox/*"},
            "s3:DeleteObject": everything,
            "s3:DeleteObjectVersion": everything,
        },
    }
    for name in FUNCTIONS:
        granted: dict[str, set[str]] = {}
        for st in _statements(_props(resources, name).get("Policies")):
            for action in _as_list(st["Action"]):
                if not action.startswith("s3:"):
                    continue
                arns = {r["Fn::Sub"] for r in _as_list(st["Resource"])}
                if action in {"s3:ListBucket", "s3:ListBucketVersions"}:
                    assert arns == {bucket_arn}, (name, action)
                    continue
                assert all(arn.startswith(f"{bucket_arn}/") for arn in arns), (name, arns)
                granted.setdefault(action, set()).update(a.split("/", 1)[1] for a in arns)
        assert granted == expected.get(name, {}), name


def test_kms_use_is_granted_only_on_the_stacks_key(resources: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        for st in _statements(_props(resources, name).get("Policies")):
            if any(a.startswith("kms:") for a in _as_list(st["Action"])):
                assert st["Resource"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, name


@pytest.mark.parametrize("name", ["ActaFunction", "UploadApiFunction"])
def test_ses_sending_is_pinned_to_the_sender_and_configuration_set(
    resources: dict[str, Any], name: str
) -> None:
    """The actas (Acta) and the trial codes (UploadApi): only from SenderEmail,
    only with the stack's configuration set (its events reach EmailEvents)."""
    props = _props(resources, name)
    statements = _statements(props["Policies"])
    (ses,) = [st for st in statements if "ses:SendRawEmail" in _as_list(st["Action"])]
    assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "SenderEmail"}
    resources_text = " ".join(r["Fn::Sub"] for r in ses["Resource"])
    assert ":identity/" in resources_text
    assert "configuration-set/${EmailConfigurationSet}" in resources_text
    variables = props["Environment"]["Variables"]
    assert variables["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}
    assert variables["SES_FROM"] == {"Fn::Sub": "${SenderName} <${SenderEmail}>"}


def test_sqs_send_only_to_the_acta_queue(resources: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        for st in _statements(_props(resources, name).get("Policies")):
            if "sqs:SendMessage" in _as_list(st["Action"]):
                assert st["Resource"] == {"Fn::GetAtt": ["ActaQueue", "Arn"]}, name


def test_no_wildcard_action_and_no_full_access_policy(
    template: dict[str, Any], nested: dict[str, dict[str, Any]]
) -> None:
    every = [template["Resources"]] + [child["Resources"] for child in nested.values()]
    key_policy = _props(template["Resources"], "DataKey")["KeyPolicy"]
    for st in _all_statements(every):
        actions = _as_list(st.get("Action", []))
        if st["Effect"] == "Allow" and actions == ["kms:*"]:
            # The one exception: the account administers its key (else nobody could).
            assert st in key_policy["Statement"], st
            assert st["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            }
        elif st["Effect"] == "Allow":
            assert not any("*" in str(action) for action in actions), st
        else:
            # The one Deny: the bucket's TLS-only rule, which must cover every call.
            assert st["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    for path in (TEMPLATE, *NESTED.values()):
        assert "FullAccess" not in path.read_text(encoding="utf-8"), path.name
    for name in FUNCTIONS:
        assert "Role" not in _props(template["Resources"], name), "SAM builds each role"


def test_no_secret_values_in_environment_variables(template: dict[str, Any]) -> None:
    secretish = re.compile(r"(_KEY|_SECRET|PASSWORD|DATABASE_URL)$")
    environments = [template["Globals"]["Function"]["Environment"]["Variables"]]
    environments += [
        _props(template["Resources"], name).get("Environment", {}).get("Variables", {})
        for name in FUNCTIONS
    ]
    for variables in environments:
        for key, value in variables.items():
            assert not secretish.search(key), f"{key} would carry a secret value"
            if key.endswith("_SECRET_ID"):
                # A Ref/GetAtt/parameter naming the secret, never a literal.
                assert isinstance(value, dict), key
    for parameter in ("AssemblyAiApiKey", "OpenAiApiKey"):
        assert template["Parameters"][parameter]["NoEcho"] is True
    outputs = template["Outputs"]
    for output in outputs.values():
        refs = _refs(output["Value"])
        assert not refs & {"AssemblyAiApiKey", "OpenAiApiKey"}


# --- storage, queue, API ----------------------------------------------------------


def test_bucket_is_encrypted_private_and_tls_only(resources: dict[str, Any]) -> None:
    bucket = _props(resources, "AudioBucket")
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    block = bucket["PublicAccessBlockConfiguration"]
    assert all(
        block[key] is True
        for key in (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        )
    )
    policies = [r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    (policy,) = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": "AudioBucket"}]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_lifecycle_and_cors(template: dict[str, Any], resources: dict[str, Any]) -> None:
    """Each prefix expires after its own retention (the purge erases the same data in
    the database); the versions a delete or an expiry leaves go a day later."""
    bucket = _props(resources, "AudioBucket")
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert all(r["Status"] == "Enabled" for r in rules)
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r}
    assert expiring == {
        "uploads/": {"Ref": "AudioRetentionDays"},
        "inbox/": {"Ref": "AudioRetentionDays"},
        "actas/": {"Ref": "ActaRetentionDays"},
        "transcripts/": {"Ref": "TranscriptRetentionDays"},
    }
    # The prefixes are the settings' own (where the functions write).
    from voxcliente.settings import load_settings

    defaults = load_settings({})
    assert set(expiring) == {
        defaults.upload_prefix,
        defaults.inbox_prefix,
        defaults.acta_documents_prefix,
        defaults.transcript_documents_prefix,
    }
    params = template["Parameters"]
    retention = {
        "AudioRetentionDays": defaults.audio_retention_days,
        "ActaRetentionDays": defaults.acta_retention_days,
        "TranscriptRetentionDays": defaults.transcript_retention_days,
    }
    for name, days in retention.items():
        assert params[name]["MinValue"] >= 1, name
        assert params[name]["Default"] == days, name
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (versions,) = [r for r in rules if "NoncurrentVersionExpiration" in r]
    assert versions["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert versions["ExpiredObjectDeleteMarker"] is True
    assert "Prefix" not in versions
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    cors = bucket["CorsConfiguration"]["CorsRules"][0]
    assert "POST" in cors["AllowedMethods"]
    assert cors["AllowedOrigins"] == {"Ref": "WebOrigins"}


def test_bucket_name_is_computed_not_referenced_by_functions(template: dict[str, Any]) -> None:
    # The bucket's notifications reference Submit; a Ref back would be a cycle.
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["AUDIO_BUCKET"] == _props(template["Resources"], "AudioBucket")["BucketName"]
    events = _props(template["Resources"], "SubmitFunction")["Events"]
    prefixes = {
        e["Properties"]["Filter"]["S3Key"]["Rules"][0]["Value"]
        for e in events.values()
        if e["Type"] == "S3"
    }
    assert prefixes == {"uploads/", "inbox/"}


def test_acta_queue_has_dlq_and_visibility_six_times_the_acta_timeout(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """One parameter, ActaTimeoutSeconds, feeds the function's timeout, the queue's
    visibility (six times it, tabulated for every allowed value) and the claim
    timeout of both functions that judge a claim stale."""
    timeout = {"Ref": "ActaTimeoutSeconds"}
    acta = _props(resources, "ActaFunction")
    assert acta["Timeout"] == timeout
    assert acta["Environment"]["Variables"]["ACTA_CLAIM_TIMEOUT_S"] == timeout
    reconciler = _props(resources, "ReconcilerFunction")
    assert reconciler["Environment"]["Variables"]["ACTA_CLAIM_TIMEOUT_S"] == timeout
    parameter = template["Parameters"]["ActaTimeoutSeconds"]
    assert parameter["Default"] in parameter["AllowedValues"]
    assert all(0 < seconds <= 900 for seconds in parameter["AllowedValues"])  # Lambda's limit
    queue = _props(resources, "ActaQueue")
    assert queue["VisibilityTimeout"] == {
        "Fn::FindInMap": ["ActaTimeout", timeout, "QueueVisibilitySeconds"]
    }
    table = template["Mappings"]["ActaTimeout"]
    assert set(table) == {str(seconds) for seconds in parameter["AllowedValues"]}
    for seconds in parameter["AllowedValues"]:
        assert table[str(seconds)]["QueueVisibilitySeconds"] == 6 * seconds
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ActaDeadLetterQueue", "Arn"]}
    # The worker's give-up count is derived from the same value it is given.
    assert acta["Environment"]["Variables"]["ACTA_QUEUE_MAX_RECEIVES"] == redrive["maxReceiveCount"]
    assert 3 <= _default(template, redrive["maxReceiveCount"]) <= 5
    event = acta["Events"]["Queue"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["BatchSize"] <= 5


def test_api_throttling_cors_and_access_logs(resources: dict[str, Any]) -> None:
    api = _props(resources, "HttpApi")
    throttling = api["DefaultRouteSettings"]
    assert throttling["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert throttling["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert api["CorsConfiguration"]["AllowOrigins"] == {"Ref": "WebOrigins"}
    log_group = api["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert "RetentionInDays" in _props(resources, log_group)


SIGNED_IN_ROUTES = {
    ("UploadApiFunction", "POST", "/uploads"),
    ("UploadApiFunction", "GET", "/uploads/{upload_id}"),
    ("AccountApiFunction", "GET", "/me"),
    ("AccountApiFunction", "DELETE", "/me"),
    ("AccountApiFunction", "GET", "/meetings"),
    ("AccountApiFunction", "GET", "/meetings/{meeting_id}"),
    ("AccountApiFunction", "DELETE", "/meetings/{meeting_id}"),
    ("AccountApiFunction", "POST", "/meetings/{meeting_id}/resend"),
    ("AccountApiFunction", "GET", "/clients"),
    ("AccountApiFunction", "PATCH", "/clients/{client_id}"),
}
# Answer without a token: AssemblyAI (its own secret header) and the trial, whose
# person has no account yet (the function answers 401 when AnonymousUploads=off).
PUBLIC_ROUTES = {
    ("WebhookFunction", "POST", "/webhooks/assemblyai"),
    ("UploadApiFunction", "POST", "/trial/codes"),
    ("UploadApiFunction", "POST", "/trial/uploads"),
    ("UploadApiFunction", "GET", "/trial/uploads/{upload_id}"),
}


def _routes(resources: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    routes = {}
    for name in FUNCTIONS:
        for event in _props(resources, name).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                assert props["ApiId"] == {"Ref": "HttpApi"}
                routes[(name, props["Method"], props["Path"])] = props
    return routes


def test_routes(resources: dict[str, Any]) -> None:
    routes = _routes(resources)
    assert set(routes) == SIGNED_IN_ROUTES | PUBLIC_ROUTES
    for route, props in routes.items():
        if route in PUBLIC_ROUTES:
            assert props["Auth"] == {"Authorizer": "NONE"}, route
        else:
            assert "Auth" not in props, f"{route} must keep the default (JWT) authorizer"


def test_every_other_route_needs_a_token_of_the_configured_issuer(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """API Gateway's JWT authorizer checks the signature (the issuer's JWKS), iss,
    aud and exp before any function runs; the issuer and audience are required
    parameters, so no deploy can leave the API open by forgetting them."""
    auth = _props(resources, "HttpApi")["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert authorizer["JwtConfiguration"] == {
        "issuer": {"Ref": "AuthIssuerUrl"},
        "audience": [{"Ref": "AuthAudience"}],
    }
    params = template["Parameters"]
    for name in ("AuthIssuerUrl", "AuthAudience"):
        assert "Default" not in params[name], f"{name} must be given at deploy"
        assert len(params[name]["Description"]) > 60, name
    issuer = re.compile(params["AuthIssuerUrl"]["AllowedPattern"])
    assert issuer.fullmatch("https://clerk.voxcliente.example")
    assert not issuer.fullmatch("http://clerk.voxcliente.example")
    assert not issuer.fullmatch("")
    # Both API functions are told the same issuer and audience (the local API verifies
    # with them); the other functions never see a token.
    for name in FUNCTIONS:
        variables = _props(resources, name).get("Environment", {}).get("Variables", {})
        if name in {"UploadApiFunction", "AccountApiFunction"}:
            assert variables["AUTH_ISSUER_URL"] == {"Ref": "AuthIssuerUrl"}, name
            assert variables["AUTH_AUDIENCE"] == {"Ref": "AuthAudience"}, name
        else:
            assert "AUTH_ISSUER_URL" not in variables, name
    cors = _props(resources, "HttpApi")["CorsConfiguration"]
    methods = {method for _, method, _ in SIGNED_IN_ROUTES | PUBLIC_ROUTES}
    assert methods | {"OPTIONS"} == set(cors["AllowMethods"])
    assert "authorization" in cors["AllowHeaders"]


def test_webhook_url_is_not_in_functions_the_api_integrates(template: dict[str, Any]) -> None:
    # The API's integrations reference UploadApi and Webhook: those must not
    # reference the API back.
    for name in ("UploadApiFunction", "AccountApiFunction", "WebhookFunction"):
        assert "HttpApi" not in _refs(_props(template["Resources"], name).get("Environment"))
    assert "HttpApi" not in _refs(template["Globals"])


# --- database and migrations --------------------------------------------------------


def test_database_is_private_encrypted_backed_up_and_snapshotted(
    database: dict[str, Any],
) -> None:
    db = database["Db"]
    assert db["Type"] == "AWS::RDS::DBInstance"
    assert db["DeletionPolicy"] == "Snapshot"
    assert db["UpdateReplacePolicy"] == "Snapshot"
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in props
    assert props["BackupRetentionPeriod"] == {"Ref": "DbBackupRetentionDays"}
    assert props["DeletionProtection"] == {"Fn::If": ["IsDev", False, True]}


def test_database_accepts_postgres_only_from_the_functions(database: dict[str, Any]) -> None:
    ingress = [
        r["Properties"]
        for r in database.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["GroupId"] == {"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}
    ]
    assert ingress
    for rule in ingress:
        assert (rule["FromPort"], rule["ToPort"]) == (5432, 5432)
        assert "CidrIp" not in rule
        assert _refs(rule["SourceSecurityGroupId"]) <= {
            "LambdaSecurityGroupId",
            "DbProxySecurityGroup",
        }
    assert "SecurityGroupIngress" not in _props(database, "DbSecurityGroup")


def test_rds_proxy_requires_tls(database: dict[str, Any]) -> None:
    proxy = _props(database, "DbProxy")
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"


def test_migrations_run_through_a_custom_resource(resources: dict[str, Any]) -> None:
    """The Migrate function reaches the database through both nested stacks, so they
    are complete before migrations run and outlive them on delete."""
    migrations = resources["SchemaMigrations"]
    assert migrations["Type"] in {"Custom::Migrations", "AWS::CloudFormation::CustomResource"}
    props = migrations["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert props["MigrationsVersion"] == {"Ref": "MigrateFunction.Version"}
    assert props["DatabaseHost"] == {"Fn::GetAtt": ["Database", "Outputs.Host"]}
    assert (ROOT / "functions" / "migrate" / "app.py").is_file()
    linked = sorted(p.name for p in (ROOT / "functions" / "migrate" / "sql").glob("*.sql"))
    assert linked == sorted(p.name for p in (ROOT / "sql").glob("*.sql"))


# --- email, schedule, alarms, outputs -----------------------------------------------


def test_ses_events_reach_the_email_events_function(resources: dict[str, Any]) -> None:
    destination = _props(resources, "EmailEventDestination")["EventDestination"]
    assert {t.lower() for t in destination["MatchingEventTypes"]} >= {
        "delivery",
        "bounce",
        "complaint",
        "reject",
    }
    topic = destination["SnsDestination"]["TopicARN"]
    events = _props(resources, "EmailEventsFunction")["Events"]
    assert any(e["Type"] == "SNS" and e["Properties"]["Topic"] == topic for e in events.values())


def test_reconciler_is_scheduled(resources: dict[str, Any]) -> None:
    events = _props(resources, "ReconcilerFunction")["Events"].values()
    assert any(e["Type"] in {"Schedule", "ScheduleV2"} for e in events)


def test_alarms_cover_the_dlq_errors_and_stuck_meetings(resources: dict[str, Any]) -> None:
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms if "MetricName" in a}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert ("VoxCliente", "MeetingsStuck") in metrics
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def _error_queries(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The function whose Errors each query of the errors alarm reads -> the query."""
    found = {}
    for item in _props(resources, "FunctionErrorsAlarm")["Metrics"]:
        query = item
        if "Fn::If" in item:  # a function deployed only under a condition
            _, query, absent = item["Fn::If"]
            assert absent == {"Ref": "AWS::NoValue"}
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Lambda", "Errors")
            (dimension,) = metric["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            found[dimension["Value"]["Ref"]] = query
    return found


def test_one_alarm_watches_every_functions_errors(resources: dict[str, Any]) -> None:
    """One metric-math alarm instead of one copy per function: the sum of every
    function's Errors. PutMetricAlarm takes at most 10 metrics and exactly one
    query whose data the alarm watches (ReturnData)."""
    errors = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and "AWS/Lambda" in str(r["Properties"].get("Namespace", ""))
    ]
    assert not errors, "per-function error alarms are back"
    queries = _error_queries(resources)
    assert set(queries) == set(FUNCTIONS)
    assert len(queries) <= 10
    alarm = _props(resources, "FunctionErrorsAlarm")
    watched = [q for q in alarm["Metrics"] if q.get("ReturnData") is True]
    assert watched == [
        {
            "Id": "errors",
            "Label": "Errors of every function",
            "Expression": "SUM(METRICS())",
            "ReturnData": True,
        }
    ]
    assert all(q["ReturnData"] is False for q in queries.values())
    assert len({q["Id"] for q in queries.values()} | {"errors"}) == len(queries) + 1
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9_]*", q["Id"]) for q in queries.values())
    assert {q["MetricStat"]["Stat"] for q in queries.values()} == {"Sum"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "Namespace" not in alarm and "Period" not in alarm  # metric math only
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    # Every function is always deployed: no query depends on a condition.
    assert not [q for q in alarm["Metrics"] if "Fn::If" in q]


def test_the_stuck_meetings_alarm_period_is_the_reconcile_interval(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """One reconciler run per period, two periods in a row: the period follows the
    schedule through a table of the allowed intervals, never a second number."""
    interval = {"Ref": "ReconcileIntervalMinutes"}
    (schedule,) = _props(resources, "ReconcilerFunction")["Events"].values()
    assert schedule["Properties"]["Schedule"] == {
        "Fn::Sub": "rate(${ReconcileIntervalMinutes} minutes)"
    }
    alarm = _props(resources, "MeetingsStuckAlarm")
    assert alarm["Period"] == {"Fn::FindInMap": ["ReconcileInterval", interval, "Seconds"]}
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    parameter = template["Parameters"]["ReconcileIntervalMinutes"]
    table = template["Mappings"]["ReconcileInterval"]
    assert set(table) == {str(minutes) for minutes in parameter["AllowedValues"]}
    for minutes in parameter["AllowedValues"]:
        assert minutes > 1, "rate(1 minutes) is not a schedule: EventBridge wants 'minute'"
        assert table[str(minutes)]["Seconds"] == 60 * minutes


def test_outputs_name_what_an_operator_needs(template: dict[str, Any]) -> None:
    assert {
        "ApiUrl",
        "UploadsEndpoint",
        "WebhookEndpoint",
        "AudioBucketName",
        "AssemblyAiSecretName",
        "OpenAiSecretName",
        "DatabaseSecretArn",
        "ActaQueueUrl",
        "ActaDeadLetterQueueUrl",
        "AuthIssuer",
    } <= set(template["Outputs"])
    assert not [name for name, output in template["Outputs"].items() if "Condition" in output]


def test_environment_names_are_settings_fields(template: dict[str, Any]) -> None:
    from voxcliente.settings import Settings

    known = {name.upper() for name in Settings.model_fields}
    names: set[str] = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for name in FUNCTIONS:
        names |= set(
            _props(template["Resources"], name).get("Environment", {}).get("Variables", {})
        )
    # AWS_ENDPOINT_URL is read by boto3 itself (empty in AWS; local runs set it).
    unknown = {n for n in names if not n.startswith("POWERTOOLS_")} - known - {"AWS_ENDPOINT_URL"}
    assert not unknown, f"not read by voxcliente.settings: {sorted(unknown)}"


# --- regressions of the production review -------------------------------------------
def test_the_webhook_route_is_throttled_apart_from_the_uploads(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """Regression: the default-route throttling (10 rps, burst 20) answered AssemblyAI
    429 under a burst of uploads, and AssemblyAI never retries a 4xx."""
    route = _props(resources, "HttpApi")["RouteSettings"]["POST /webhooks/assemblyai"]
    params = template["Parameters"]
    burst = params[route["ThrottlingBurstLimit"]["Ref"]]["Default"]
    rate = params[route["ThrottlingRateLimit"]["Ref"]]["Default"]
    assert burst > params["ApiThrottlingBurstLimit"]["Default"]
    assert rate > params["ApiThrottlingRateLimit"]["Default"]


def test_no_upload_route_is_served_without_sign_in_by_default(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """Regression (the open relay): POST /uploads needed no credentials, so anyone could
    have audio written up and emailed anywhere at our cost. Sign-in replaced the
    PublicUploads switch; the trial is off unless asked for, and bounded."""
    assert "PublicUploads" not in template["Parameters"]
    assert "ServePublicUploads" not in template["Conditions"]
    assert not [n for n, r in resources.items() if "Condition" in r and n in FUNCTIONS]
    params = template["Parameters"]
    assert params["AnonymousUploads"]["Default"] == "off"
    assert params["AnonymousUploads"]["AllowedValues"] == ["off", "confirm-email"]
    for name in ("TrialDailyPerAddress", "TrialDailyPerIp"):
        assert params[name]["MinValue"] >= 1, name
    variables = _props(resources, "UploadApiFunction")["Environment"]["Variables"]
    assert variables["ANONYMOUS_UPLOADS"] == {"Ref": "AnonymousUploads"}
    assert variables["TRIAL_DAILY_PER_ADDRESS"] == {"Ref": "TrialDailyPerAddress"}
    assert variables["TRIAL_DAILY_PER_IP"] == {"Ref": "TrialDailyPerIp"}


# Which functions get each limit, retention and privacy parameter (as its setting).
PARAMETER_VARIABLES = {
    "DailySpendLimitUsd": (
        "DAILY_SPEND_LIMIT_USD",
        {"UploadApiFunction", "SubmitFunction", "ReconcilerFunction"},
    ),
    "MonthlyAudioMinutesQuota": (
        "MONTHLY_AUDIO_MINUTES_QUOTA",
        {"UploadApiFunction", "AccountApiFunction"},
    ),
    "AudioRetentionDays": (
        "AUDIO_RETENTION_DAYS",
        {"ReconcilerFunction", "AccountApiFunction"},
    ),
    "TranscriptRetentionDays": (
        "TRANSCRIPT_RETENTION_DAYS",
        {"ReconcilerFunction", "AccountApiFunction"},
    ),
    "ActaRetentionDays": ("ACTA_RETENTION_DAYS", {"ReconcilerFunction", "AccountApiFunction"}),
    "DeleteProviderTranscript": (
        "DELETE_PROVIDER_TRANSCRIPT",
        {"ActaFunction", "ReconcilerFunction"},
    ),
}


@pytest.mark.parametrize("parameter", PARAMETER_VARIABLES)
def test_limits_and_retention_reach_the_functions_that_enforce_them(
    template: dict[str, Any], resources: dict[str, Any], parameter: str
) -> None:
    variable, expected = PARAMETER_VARIABLES[parameter]
    given = {
        name
        for name in FUNCTIONS
        if _props(resources, name).get("Environment", {}).get("Variables", {}).get(variable)
        == {"Ref": parameter}
    }
    assert given == expected
    assert template["Parameters"][parameter]["Description"], parameter


def test_the_data_region_selects_the_providers_european_endpoints(
    template: dict[str, Any],
) -> None:
    """DataRegion=eu: AssemblyAI's EU endpoint (async transcription stays in the EU) and
    OpenAI's European data-residency endpoint; every function gets both (Globals)."""
    assert template["Parameters"]["DataRegion"]["AllowedValues"] == ["us", "eu"]
    assert template["Parameters"]["DataRegion"]["Default"] == "us"
    assert template["Conditions"]["InEu"] == {"Fn::Equals": [{"Ref": "DataRegion"}, "eu"]}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ASSEMBLYAI_BASE_URL"] == {
        "Fn::If": ["InEu", "https://api.eu.assemblyai.com", "https://api.assemblyai.com"]
    }
    assert variables["OPENAI_BASE_URL"] == {
        "Fn::If": ["InEu", "https://eu.api.openai.com/v1", "https://api.openai.com/v1"]
    }
    assert variables["DATA_REGION"] == {"Ref": "DataRegion"}


def test_the_daily_spend_limit_alarm_reads_the_guards_metric(
    resources: dict[str, Any],
) -> None:
    """The spend guard emits DailySpendLimitReached through Powertools (EMF), which
    adds the service dimension, as it does for MeetingsStuck."""
    alarm = _props(resources, "DailySpendLimitAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("VoxCliente", "DailySpendLimitReached")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "voxcliente"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_logs_topics_and_failed_events_are_encrypted_with_the_stacks_key(
    resources: dict[str, Any],
) -> None:
    """Log lines hold source IPs and ids, SES events and failed S3 events name people:
    all of them under the customer key, whose policy lets CloudWatch Logs, SES and
    CloudWatch alarms use it."""
    key = {"Fn::GetAtt": ["DataKey", "Arn"]}
    for name, res in resources.items():
        if res["Type"] == "AWS::Logs::LogGroup":
            assert res["Properties"]["KmsKeyId"] == key, name
        if res["Type"] == "AWS::SNS::Topic":
            assert res["Properties"]["KmsMasterKeyId"] == key, name
    assert _props(resources, "AsyncFailuresQueue")["KmsMasterKeyId"] == key
    data_key = _props(resources, "DataKey")
    assert data_key["EnableKeyRotation"] is True
    services = set()
    for st in data_key["KeyPolicy"]["Statement"]:
        principal = st["Principal"].get("Service", [])
        services |= {str(p) for p in _as_list(principal)}
    assert {"ses.amazonaws.com", "cloudwatch.amazonaws.com"} <= services
    assert any("logs." in s for s in services)


def test_no_provider_setting_is_left_empty_for_an_sdk_to_read(template: dict[str, Any]) -> None:
    """Regression: `OPENAI_BASE_URL: ""` made the openai SDK read the empty variable
    itself, and every acta failed in AWS."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for name, value in variables.items():
        if name.endswith("_BASE_URL"):
            # Both branches of the data region's choice are URLs.
            for branch in value["Fn::If"][1:] if isinstance(value, dict) else [value]:
                assert str(branch).startswith("https://"), name


# --- defect 12: database connections bounded by each function's concurrency ------------
# RDS's default max_connections is LEAST(DBInstanceClassMemory/9531392, 5000): at most
# 112 on db.t4g.micro (1 GiB), fewer in practice; 3 of them are superuser-reserved.
T4G_MICRO_MAX_CONNECTIONS = 1024**3 // 9531392
DB_CONNECTION_MARGIN = 10
RESERVED_BY_PARAMETER = {
    "UploadApiFunction": "UploadApiReservedConcurrency",
    "AccountApiFunction": "AccountApiReservedConcurrency",
    "SubmitFunction": "SubmitReservedConcurrency",
    "WebhookFunction": "WebhookReservedConcurrency",
    "EmailEventsFunction": "EmailEventsReservedConcurrency",
}


def _reserved(template: dict[str, Any], name: str) -> Any:
    """A function's ReservedConcurrentExecutions when ReserveConcurrency is true."""
    value = template["Resources"][name]["Properties"]["ReservedConcurrentExecutions"]
    condition, when_true, when_false = value["Fn::If"]
    assert condition == "ReserveFunctionConcurrency", name
    assert when_false == {"Ref": "AWS::NoValue"}, name
    return when_true


def test_every_function_but_acta_reserves_its_share_of_connections(
    template: dict[str, Any],
) -> None:
    assert template["Conditions"]["ReserveFunctionConcurrency"] == {
        "Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]
    }
    assert template["Parameters"]["ReserveConcurrency"]["Default"] == "true"
    for name, parameter in RESERVED_BY_PARAMETER.items():
        assert _reserved(template, name) == {"Ref": parameter}, name
        spec = template["Parameters"][parameter]
        assert spec["Type"] == "Number"
        assert spec["MinValue"] >= 1, f"{parameter}: 0 would stop the function"
        assert "connections" in spec["Description"], parameter
    for name in ("ReconcilerFunction", "MigrateFunction"):
        assert _reserved(template, name) == 1, name
    # Acta is bounded by its SQS event source (reserved concurrency there would
    # throttle messages already received and count them towards the DLQ).
    acta = template["Resources"]["ActaFunction"]["Properties"]
    assert "ReservedConcurrentExecutions" not in acta
    scaling = acta["Events"]["Queue"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == {"Ref": "ActaMaxConcurrency"}
    functions = {
        n for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }
    assert functions == {*RESERVED_BY_PARAMETER, "ReconcilerFunction", "MigrateFunction"} | {
        "ActaFunction"
    }, "a new function needs its share of the database connections"


def test_the_default_shares_fit_the_default_instances_connections(
    template: dict[str, Any],
) -> None:
    """Regression: 100 concurrent webhooks opened 99 connections on a server with
    max_connections=100. The defaults add up below db.t4g.micro's budget, with a margin
    for retired environments' connections and a person with psql."""
    params = template["Parameters"]
    assert params["DbInstanceClass"]["Default"] == "db.t4g.micro", "re-size the shares"
    total = sum(params[p]["Default"] for p in RESERVED_BY_PARAMETER.values())
    total += 2  # Reconciler and Migrate
    total += params["ActaMaxConcurrency"]["Default"]
    assert total <= T4G_MICRO_MAX_CONNECTIONS - 3 - DB_CONNECTION_MARGIN
    # The documented arithmetic says the same number.
    assert f"bounds the database connections to their sum ({total} by default" in " ".join(
        params["ReserveConcurrency"]["Description"].split()
    )


def test_a_throttled_webhook_gets_a_status_assemblyai_retries(template: dict[str, Any]) -> None:
    """Over its reserved concurrency Lambda rejects the invocation and API Gateway
    answers 500 (AWS Lambda guide, "Handling Lambda errors with an API Gateway API");
    AssemblyAI retries a 5xx, never a 4xx. The API's own throttling (429) must not
    be what trips first: its route limits stay above what the environments serve."""
    params = template["Parameters"]
    assert "500" in params["WebhookReservedConcurrency"]["Description"]
    assert (
        params["WebhookReservedConcurrency"]["Default"]
        <= params["WebhookThrottlingBurstLimit"]["Default"]
    )


def test_the_webhook_answers_within_assemblyais_deadline(resources: dict[str, Any]) -> None:
    """AssemblyAI gives the webhook 10 s: connecting and one statement must fit well
    inside the function's timeout, so a slow database ends in a retried 503."""
    props = _props(resources, "WebhookFunction")
    variables = props["Environment"]["Variables"]
    budget_s = (
        int(variables["DB_CONNECT_TIMEOUT_S"]) + int(variables["DB_STATEMENT_TIMEOUT_MS"]) / 1000
    )
    assert props["Timeout"] <= 10
    assert budget_s < props["Timeout"]


def test_ses_send_events_reach_email_events(resources: dict[str, Any]) -> None:
    """The Send event carries our meeting tag: it recovers the message id when the worker
    was lost between SES accepting and its commit, so nothing is sent twice."""
    [destination] = [
        r for r in resources.values() if r["Type"] == "AWS::SES::ConfigurationSetEventDestination"
    ]
    kinds = destination["Properties"]["EventDestination"]["MatchingEventTypes"]
    assert {"send", "delivery", "bounce", "complaint", "reject"} <= set(kinds)


# --- nested applications ----------------------------------------------------------------
def test_nested_applications_are_local_templates_given_every_parameter(
    template: dict[str, Any], nested: dict[str, dict[str, Any]]
) -> None:
    """Every parameter of a nested template is passed by template.yaml (so the child's
    own defaults never decide anything), and only declared ones."""
    applications = {
        name: res["Properties"]
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Application"
    }
    assert set(applications) == set(NESTED)
    for name, props in applications.items():
        assert ROOT / props["Location"] == NESTED[name]
        assert set(props["Parameters"]) == set(nested[name]["Parameters"]), name
        assert "Transform" not in nested[name], "no function lives in a nested template"


def test_every_nested_output_read_exists_and_is_unconditional(
    template: dict[str, Any], nested: dict[str, dict[str, Any]]
) -> None:
    read: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::GetAtt" and str(value[1]).startswith("Outputs."):
                    read.add((value[0], value[1].split(".", 1)[1]))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template)
    assert {app for app, _ in read} == set(NESTED)
    for app, output in read:
        outputs = nested[app]["Outputs"]
        assert output in outputs, f"{app} has no output {output}"
        assert "Condition" not in outputs[output], f"{app}.Outputs.{output} may not exist"


# --- template <-> settings ------------------------------------------------------------
# Values that differ from settings' defaults on purpose ("*": every function).
DIFFER_ON_PURPOSE = {
    ("WebhookFunction", "DB_CONNECT_TIMEOUT_S"): "inside AssemblyAI's 10 s",
    ("WebhookFunction", "DB_STATEMENT_TIMEOUT_MS"): "inside AssemblyAI's 10 s",
    ("MigrateFunction", "DB_STATEMENT_TIMEOUT_MS"): "a migration may rewrite a table",
    ("*", "DB_SSLMODE"): "RDS refuses plaintext; a local PostgreSQL has no certificate",
}


def test_template_defaults_are_settings_defaults(template: dict[str, Any]) -> None:
    """A variable the template sets from its own defaults (a literal, a parameter's
    Default, a mapping) reads, in voxcliente.settings, as the settings' default:
    a local run without the variable behaves like a default deploy. A variable
    settings leaves unset by default (the template is its only source) must not
    change any other setting either (ACTA_QUEUE_MAX_RECEIVES -> acta_max_receives)."""
    from voxcliente.settings import Settings, load_settings
    from voxlocal.template_env import Stack

    stack = Stack(region="us-east-1", template=template)
    parameters = template["Parameters"]
    defaults = load_settings({})
    compared = set()
    differ: list[str] = []
    for function in FUNCTIONS:
        variables = {
            **template["Globals"]["Function"]["Environment"]["Variables"],
            **(_props(template["Resources"], function).get("Environment", {}).get("Variables", {})),
        }
        for name, node in variables.items():
            field = name.lower()
            refs = _refs(node)
            chosen_here = all(r in parameters and "Default" in parameters[r] for r in refs)
            on_purpose = {(function, name), ("*", name)} & set(DIFFER_ON_PURPOSE)
            if field not in Settings.model_fields or not chosen_here or on_purpose:
                continue
            value = str(stack.resolve(node, f"{function}.{name}"))
            unset_by_default = Settings.model_fields[field].default is None
            exclude = {field} if unset_by_default else set()
            given = load_settings({name: value}).model_dump(exclude=exclude)
            if given != defaults.model_dump(exclude=exclude):
                differ.append(
                    f"{function}: {name}={value!r} in template.yaml, but voxcliente.settings "
                    f"defaults to {getattr(defaults, field)!r}: make them one value"
                )
            compared.add(name)
    assert not differ, "\n".join(differ)
    # The numbers the issue found coupled by hand are among those compared.
    assert {"MAX_UPLOAD_BYTES", "ACTA_CLAIM_TIMEOUT_S", "ACTA_QUEUE_MAX_RECEIVES"} <= compared
    # And the ones of accounts, limits and retention.
    assert {
        "ANONYMOUS_UPLOADS",
        "TRIAL_DAILY_PER_ADDRESS",
        "TRIAL_DAILY_PER_IP",
        "DAILY_SPEND_LIMIT_USD",
        "MONTHLY_AUDIO_MINUTES_QUOTA",
        "AUDIO_RETENTION_DAYS",
        "TRANSCRIPT_RETENTION_DAYS",
        "ACTA_RETENTION_DAYS",
        "DELETE_PROVIDER_TRANSCRIPT",
        "DATA_REGION",
        "ASSEMBLYAI_BASE_URL",
        "OPENAI_BASE_URL",
    } <= compared


# --- the web page ----------------------------------------------------------------


def test_the_web_page_bucket_is_private_and_read_only_by_its_distribution(
    resources: dict[str, Any],
) -> None:
    """web/ sits in a bucket nobody reads directly: CloudFront signs its requests
    (origin access control) and the policy names that one distribution."""
    bucket = _props(resources, "WebBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "WebsiteConfiguration" not in bucket, "a website endpoint is public"

    (policy,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        and r["Properties"]["Bucket"] == {"Ref": "WebBucket"}
    ]
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${WebBucket.Arn}/*"}
    (source,) = allow["Condition"]["StringEquals"].values()
    assert _refs(source) == {"WebDistribution"}
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    control = _props(resources, "WebOriginAccessControl")["OriginAccessControlConfig"]
    assert (control["OriginAccessControlOriginType"], control["SigningBehavior"]) == (
        "s3",
        "always",
    )
    assert control["SigningProtocol"] == "sigv4"


def test_the_web_distribution_serves_the_page_over_https_with_security_headers(
    resources: dict[str, Any],
) -> None:
    config = _props(resources, "WebDistribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}, "OAC, not the legacy OAI"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"], "a static page: nothing else"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeaders"}
    # The API keeps its own URL (CORS): no behaviour forwards to it.
    assert "CacheBehaviors" not in config and len(config["Origins"]) == 1

    headers = _props(resources, "WebSecurityHeaders")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["ContentTypeOptions"] == {"Override": True}
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in " ".join(csp.split()).split("; ")
    )
    assert directives["default-src"] == ["'self'"]
    # Scripts: the page's own and the sign-in provider's (Clerk's Frontend API), no CDN.
    assert directives["script-src"] == [
        "'self'",
        "${AuthIssuerUrl}",
        "https://challenges.cloudflare.com",
    ]
    # The page talks to the API and uploads to the audio bucket (the presigned POST).
    connect = directives["connect-src"]
    assert "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}" in connect
    assert "https://${AudioBucket.RegionalDomainName}" in connect
    for locked in ("object-src", "base-uri"):
        assert directives[locked] == ["'none'"], locked
    assert directives["frame-ancestors"] == ["'none'"]


def test_the_web_page_outputs_and_where_its_url_must_go(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["WebUrl"]["Value"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}
    assert outputs["WebBucketName"]["Value"] == {"Ref": "WebBucket"}
    assert outputs["WebDistributionId"]["Value"] == {"Ref": "WebDistribution"}
    # The page's origin reaches the API and the bucket through WebOrigins (CORS);
    # the output says so, and make publish-web checks it.
    assert "WebOrigins" in outputs["WebUrl"]["Description"]
    publish = (ROOT / "scripts" / "publish_web.py").read_text(encoding="utf-8")
    for name in ("WebUrl", "WebBucketName", "WebDistributionId", "ApiUrl", "WebOrigins"):
        assert name in publish, name
    assert template["Parameters"]["WebPriceClass"]["Default"] == "PriceClass_100"
