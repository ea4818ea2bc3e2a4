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

FUNCTIONS = (
    "UploadApiFunction",
    "SubmitFunction",
    "WebhookFunction",
    "ActaFunction",
    "EmailEventsFunction",
    "ReconcilerFunction",
    "MigrateFunction",
)

# Every IAM action each function's own policies may grant (SAM adds the SQS
# poller for Acta's event source and sqs:SendMessage for on-failure destinations).
ALLOWED_ACTIONS: dict[str, set[str]] = {
    "UploadApiFunction": {"s3:PutObject", "secretsmanager:GetSecretValue"},
    "SubmitFunction": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
    },
    "WebhookFunction": {"secretsmanager:GetSecretValue", "sqs:SendMessage"},
    "ActaFunction": {"secretsmanager:GetSecretValue", "ses:SendEmail", "ses:SendRawEmail"},
    "EmailEventsFunction": {"secretsmanager:GetSecretValue"},
    "ReconcilerFunction": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "cloudwatch:PutMetricData",
    },
    "MigrateFunction": {"secretsmanager:GetSecretValue"},
}

# Which secrets (logical ids; "db" = the database secret) each function may read.
ALLOWED_SECRETS: dict[str, set[str]] = {
    "UploadApiFunction": {"db"},
    "SubmitFunction": {"AssemblyAiSecret", "WebhookSecret", "db"},
    "WebhookFunction": {"WebhookSecret", "AssemblyAiSecret", "db"},
    "ActaFunction": {"AssemblyAiSecret", "OpenAiSecret", "db"},
    "EmailEventsFunction": {"db"},
    "ReconcilerFunction": {"AssemblyAiSecret", "WebhookSecret", "db"},
    "MigrateFunction": {"db"},
}

ACTA_TIMEOUT = 900


# --- loading ------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Tag value`` into ``{"Fn::Tag": value}``."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded


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
    timeout = _function_setting(template, name, "Timeout")
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
            read |= {"db"} if "Db" in refs or "ExistingDbSecretArn" in refs else refs
    assert read == ALLOWED_SECRETS[name]


def test_s3_permissions_are_scoped_to_prefixes_of_the_audio_bucket(
    resources: dict[str, Any],
) -> None:
    bucket = _props(resources, "AudioBucket")["BucketName"]["Fn::Sub"]
    expected = {
        "UploadApiFunction": {"uploads/*"},
        "SubmitFunction": {"uploads/*", "inbox/*"},
    }
    for name, prefixes in expected.items():
        statements = _statements(_props(resources, name)["Policies"])
        s3 = [st for st in statements if any(a.startswith("s3:") for a in _as_list(st["Action"]))]
        arns = {r["Fn::Sub"] for st in s3 for r in _as_list(st["Resource"])}
        assert arns == {f"arn:${{AWS::Partition}}:s3:::{bucket}/{p}" for p in prefixes}


def test_ses_sending_is_pinned_to_the_sender_and_configuration_set(
    resources: dict[str, Any],
) -> None:
    statements = _statements(_props(resources, "ActaFunction")["Policies"])
    (ses,) = [st for st in statements if "ses:SendRawEmail" in _as_list(st["Action"])]
    assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "SenderEmail"}
    resources_text = " ".join(r["Fn::Sub"] for r in ses["Resource"])
    assert ":identity/" in resources_text
    assert "configuration-set/${EmailConfigurationSet}" in resources_text


def test_sqs_send_only_to_the_acta_queue(resources: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        for st in _statements(_props(resources, name).get("Policies")):
            if "sqs:SendMessage" in _as_list(st["Action"]):
                assert st["Resource"] == {"Fn::GetAtt": ["ActaQueue", "Arn"]}, name


def test_no_wildcard_action_and_no_full_access_policy(template: dict[str, Any]) -> None:
    for st in _all_statements(template["Resources"]):
        actions = _as_list(st.get("Action", []))
        if st["Effect"] == "Allow":
            assert not any("*" in str(action) for action in actions), st
        else:
            # The one Deny: the bucket's TLS-only rule, which must cover every call.
            assert st["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "FullAccess" not in text
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


def test_bucket_lifecycle_and_cors(resources: dict[str, Any]) -> None:
    bucket = _props(resources, "AudioBucket")
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") == {"Ref": "AudioRetentionDays"} for r in rules)
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
    resources: dict[str, Any],
) -> None:
    assert _props(resources, "ActaFunction")["Timeout"] == ACTA_TIMEOUT
    queue = _props(resources, "ActaQueue")
    assert queue["VisibilityTimeout"] == 6 * ACTA_TIMEOUT
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ActaDeadLetterQueue", "Arn"]}
    assert 3 <= redrive["maxReceiveCount"] <= 5
    event = _props(resources, "ActaFunction")["Events"]["Queue"]["Properties"]
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


def test_routes(resources: dict[str, Any]) -> None:
    routes = set()
    for name in FUNCTIONS:
        for event in _props(resources, name).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes.add((name, event["Properties"]["Method"], event["Properties"]["Path"]))
    assert routes == {
        ("UploadApiFunction", "POST", "/uploads"),
        ("UploadApiFunction", "GET", "/uploads/{upload_id}"),
        ("WebhookFunction", "POST", "/webhooks/assemblyai"),
    }


def test_webhook_url_is_not_in_functions_the_api_integrates(template: dict[str, Any]) -> None:
    # The API's integrations reference UploadApi and Webhook: those must not
    # reference the API back.
    for name in ("UploadApiFunction", "WebhookFunction"):
        assert "HttpApi" not in _refs(_props(template["Resources"], name).get("Environment"))
    assert "HttpApi" not in _refs(template["Globals"])


# --- database and migrations --------------------------------------------------------


def test_database_is_private_encrypted_backed_up_and_snapshotted(
    resources: dict[str, Any],
) -> None:
    db = resources["Db"]
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


def test_database_accepts_postgres_only_from_the_functions(resources: dict[str, Any]) -> None:
    ingress = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["GroupId"] == {"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}
    ]
    assert ingress
    for rule in ingress:
        assert (rule["FromPort"], rule["ToPort"]) == (5432, 5432)
        assert "CidrIp" not in rule
        assert _refs(rule["SourceSecurityGroupId"]) <= {
            "LambdaSecurityGroup",
            "ExistingLambdaSecurityGroupId",
            "DbProxySecurityGroup",
        }
    assert "SecurityGroupIngress" not in _props(resources, "DbSecurityGroup")


def test_rds_proxy_requires_tls(resources: dict[str, Any]) -> None:
    proxy = _props(resources, "DbProxy")
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"


def test_migrations_run_through_a_custom_resource(resources: dict[str, Any]) -> None:
    migrations = resources["SchemaMigrations"]
    assert migrations["Type"] in {"Custom::Migrations", "AWS::CloudFormation::CustomResource"}
    props = migrations["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert props["MigrationsVersion"] == {"Ref": "MigrateFunction.Version"}
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
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert ("VoxCliente", "MeetingsStuck") in metrics
    errored = {
        a["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if a["MetricName"] == "Errors" and a["Namespace"] == "AWS/Lambda"
    }
    assert errored == set(FUNCTIONS)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


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
    } <= set(template["Outputs"])


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


def test_uploads_are_served_only_when_public_uploads_says_so(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """No open relay: POST /uploads needs no credentials, so it is off by default."""
    assert template["Parameters"]["PublicUploads"]["Default"] == "false"
    assert template["Conditions"]["ServePublicUploads"] == {
        "Fn::Equals": [{"Ref": "PublicUploads"}, "true"]
    }
    for name in ("UploadApiFunction", "UploadApiLogGroup", "UploadApiErrorsAlarm"):
        assert resources[name]["Condition"] == "ServePublicUploads", name
    assert template["Outputs"]["UploadsEndpoint"]["Condition"] == "ServePublicUploads"
    # the inbox drop (AWS credentials needed) is always there
    assert "Condition" not in resources["SubmitFunction"]


def test_no_provider_setting_is_left_empty_for_an_sdk_to_read(template: dict[str, Any]) -> None:
    """Regression: `OPENAI_BASE_URL: ""` made the openai SDK read the empty variable
    itself, and every acta failed in AWS."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["OPENAI_BASE_URL"] == "https://api.openai.com/v1"
    assert variables["ASSEMBLYAI_BASE_URL"] == "https://api.assemblyai.com"
    for name, value in variables.items():
        if name.endswith("_BASE_URL"):
            assert value, name


# --- defect 12: database connections bounded by each function's concurrency ------------
# RDS's default max_connections is LEAST(DBInstanceClassMemory/9531392, 5000): at most
# 112 on db.t4g.micro (1 GiB), fewer in practice; 3 of them are superuser-reserved.
T4G_MICRO_MAX_CONNECTIONS = 1024**3 // 9531392
DB_CONNECTION_MARGIN = 10
RESERVED_BY_PARAMETER = {
    "UploadApiFunction": "UploadApiReservedConcurrency",
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
