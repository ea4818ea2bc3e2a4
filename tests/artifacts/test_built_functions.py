"""The functions as ``sam build`` built them, each run in a fresh, isolated interpreter.

Every function of template.yaml is imported from ``.aws-sam/build/<LogicalId>/``
with only the built layer (``.aws-sam/build/CommonLayer/python``, Lambda's
``/opt/python``) and what the Lambda runtime itself ships (boto3 and its
dependencies) on ``sys.path``: no site-packages of the development
environment (``python -I -S``, see ``voxlocal.invoke_child``). A dependency
missing from ``layers/common/requirements.txt`` fails here, not after a deploy.

Each handler is called with its sample event from ``events/`` against the
local services: a real PostgreSQL, moto's server, and the AssemblyAI and
OpenAI emulators. The child gets its whole environment explicitly.

Run ``make build`` first (``make test`` does).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import psycopg
import pytest
from psycopg.rows import dict_row

import slim_layer
from conftest import SENDER, WEBHOOK_URL, AwsEnv, sent_emails
from voxlocal import postgres
from voxlocal import template as cfn
from voxlocal.invoke_child import command, make_runtime_dir, template_functions

pytestmark = pytest.mark.artifacts

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "CommonLayer" / "python"
EVENTS = ROOT / "events"
SPANISH = ROOT / "samples" / "reunion-textiles-andinos.mp3"
# The bucket the sample S3 events name, and the secret the sample webhook carries.
SAMPLE_BUCKET = "voxcliente-audio-local"
RECIPIENT = "ana.mendez@example.com"
MISSING_BUILD = (
    "No built artifacts in .aws-sam/build: run `make build` first "
    "(`make test` builds before running pytest)."
)

# Distributions that belong to development, never to the layer (import names
# and distribution names, normalised: lower case, '-' as '_').
DEV_ONLY = {
    "moto",
    "pytest",
    "_pytest",
    "samcli",
    "aws_sam_cli",
    "boto3_stubs",
    "botocore_stubs",
    "mypy",
    "ruff",
    "pgserver",
    "cfnlint",
    "cfn_lint",
}
DEV_ONLY_PREFIXES = ("mypy_boto3_", "types_", "pytest_")
# Distributions the Lambda Python runtime provides (slim_layer.RUNTIME_PROVIDED): the
# layer leaves them out and the child finds the development copies, pinned in
# requirements.txt, in the runtime directory.
RUNTIME_PROVIDED = frozenset(slim_layer.RUNTIME_PROVIDED)


# --- the template --------------------------------------------------------------------------
FUNCTIONS = template_functions(TEMPLATE)
# Which test below runs which function (every function must have one).
EXERCISED_BY = {
    "UploadApiFunction": "test_upload_api_presigns_reports_and_404s",
    "SubmitFunction": "test_a_dropped_file_goes_all_the_way_to_the_inbox",
    "WebhookFunction": "test_a_dropped_file_goes_all_the_way_to_the_inbox",
    "ActaFunction": "test_a_dropped_file_goes_all_the_way_to_the_inbox",
    "EmailEventsFunction": "test_a_dropped_file_goes_all_the_way_to_the_inbox",
    "ReconcilerFunction": "test_the_reconciler_continues_a_meeting_whose_webhook_never_came",
    "MigrateFunction": "test_migrate_applies_the_schema_and_answers_cloudformation",
    "AccountApiFunction": "test_account_api_answers_the_signed_in_caller_only",
}


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


# --- running a built function ------------------------------------------------------------
@dataclass
class Invocation:
    result: Any
    stdout: str
    stderr: str


@dataclass
class BuiltFunctions:
    """Invokes the built handlers, one fresh isolated interpreter per call."""

    runtime: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def invoke(self, logical_id: str, event: dict[str, Any], **env: str) -> Invocation:
        code = BUILD / logical_id
        if not code.is_dir():
            pytest.fail(f"{code.relative_to(ROOT)} is missing. {MISSING_BUILD}", pytrace=False)
        self.calls += 1
        event_file = self.workdir / f"{self.calls:02d}-{logical_id}-event.json"
        output = self.workdir / f"{self.calls:02d}-{logical_id}-result.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        handler = str(FUNCTIONS[logical_id].get("Handler", "app.lambda_handler"))
        timeout_s = int(
            cfn.default_value(cfn.load(TEMPLATE), FUNCTIONS[logical_id].get("Timeout", 30))
        )
        child_env = {
            **self.env,
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "LAMBDA_TASK_ROOT": str(code),
            **env,
        }
        args = command(
            sys.executable,
            "invoke",
            code=code,
            layer=LAYER,
            runtime=self.runtime,
            output=output,
            event=event_file,
            handler=handler,
            function_name=logical_id,
            timeout_s=timeout_s,
        )
        proc = subprocess.run(  # noqa: S603 - our own interpreter and runner
            args, env=child_env, cwd=code, capture_output=True, text=True, timeout=180, check=False
        )
        if not output.is_file():
            pytest.fail(
                f"{logical_id} died without a result (exit {proc.returncode}).\n"
                f"stderr:\n{proc.stderr[-4000:]}",
                pytrace=False,
            )
        answer = json.loads(output.read_text(encoding="utf-8"))
        if not answer["ok"]:
            error = answer["error"]
            hint = (
                " A module the function imports is not in the built layer: add its "
                "distribution to layers/common/requirements.txt."
                if error["type"] in ("ModuleNotFoundError", "ImportError")
                else ""
            )
            pytest.fail(
                f"{logical_id} raised {error['type']}: {error['message']}.{hint}\n"
                f"{error['traceback']}\nstdout (logs):\n{proc.stdout[-4000:]}",
                pytrace=False,
            )
        return Invocation(answer["result"], proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def built() -> Path:
    if not (BUILD / "template.yaml").is_file() or not LAYER.is_dir():
        pytest.fail(MISSING_BUILD, pytrace=False)
    missing = [name for name in FUNCTIONS if not (BUILD / name).is_dir()]
    if missing:
        pytest.fail(f"Not built: {', '.join(missing)}. {MISSING_BUILD}", pytrace=False)
    return BUILD


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """boto3 and its dependencies, as the Lambda Python runtime ships them."""
    return make_runtime_dir(tmp_path_factory.mktemp("lambda-runtime"))


@pytest.fixture
def functions(
    built: Path, runtime_dir: Path, tmp_path: Path, db_url: str, aws: AwsEnv
) -> BuiltFunctions:
    """The built functions, configured for PostgreSQL and moto (no provider yet)."""
    aws.s3.create_bucket(Bucket=SAMPLE_BUCKET)
    env = {
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": aws.endpoint,
        "POWERTOOLS_SERVICE_NAME": "voxcliente",
        "POWERTOOLS_METRICS_NAMESPACE": "VoxCliente",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "DATABASE_URL": db_url,
        "DB_SSLMODE": "disable",
        "AUDIO_BUCKET": SAMPLE_BUCKET,
        "ACTA_QUEUE_URL": aws.queue_url,
        "SES_FROM": f"VoxCliente <{SENDER}>",
        "WEBHOOK_URL": WEBHOOK_URL,
        "WEBHOOK_SECRET": sample_webhook_secret(),
    }
    return BuiltFunctions(runtime=runtime_dir, workdir=tmp_path, env=env)


@pytest.fixture
def providers(functions: BuiltFunctions, assemblyai: Any, openai_api: Any) -> BuiltFunctions:
    """The built functions, also pointed at the AssemblyAI and OpenAI emulators."""
    functions.env.update(
        {
            "ASSEMBLYAI_BASE_URL": assemblyai.base_url,
            "ASSEMBLYAI_API_KEY": assemblyai.api_key,
            "ASSEMBLYAI_TIMEOUT_S": "5",
            "OPENAI_BASE_URL": openai_api.base_url,
            "OPENAI_API_KEY": openai_api.api_key,
            "OPENAI_TIMEOUT_S": "10",
            "OPENAI_MAX_RETRIES": "2",
        }
    )
    return functions


def sample_webhook_secret() -> str:
    headers = load_event("api-webhook-assemblyai.json")["headers"]
    return str(headers["x-voxcliente-webhook-secret"])


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as c:
        yield c


def drop_sample_recording(aws: AwsEnv, assemblyai: Any) -> tuple[dict[str, Any], str]:
    """Put the Spanish sample where events/s3-put-inbox.json says; return (event, key)."""
    event = load_event("s3-put-inbox.json")
    key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    assemblyai.register_audio(SPANISH)
    aws.s3.put_object(
        Bucket=SAMPLE_BUCKET, Key=key, Body=SPANISH.read_bytes(), ContentType="audio/mpeg"
    )
    return event, key


def only_meeting(db: psycopg.Connection[Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = db.execute("SELECT * FROM meetings").fetchall()
    assert len(rows) == 1, rows
    return rows[0]


# --- the build itself ------------------------------------------------------------------------
def test_every_function_of_the_template_is_exercised_here() -> None:
    assert FUNCTIONS, "template.yaml declares no AWS::Serverless::Function"
    assert set(FUNCTIONS) == set(EXERCISED_BY), (
        "Every function in template.yaml needs a scenario in this file (EXERCISED_BY)."
    )


def test_the_build_matches_the_sources(built: Path) -> None:
    stale: list[str] = []
    for name, props in FUNCTIONS.items():
        code_uri = str(props["CodeUri"]).rstrip("/")
        for source in sorted((ROOT / code_uri).glob("*.py")):
            copy_ = built / name / source.name
            if not copy_.is_file() or copy_.read_bytes() != source.read_bytes():
                stale.append(f"{code_uri}/{source.name}")
    package = ROOT / "layers" / "common" / "voxcliente"
    for source in sorted(package.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            copy_ = LAYER / "voxcliente" / source.relative_to(package)
            if not copy_.is_file() or copy_.read_bytes() != source.read_bytes():
                stale.append(str(source.relative_to(ROOT)))
    installed = _installed_versions()
    for name, version in _pins().items():
        if name in RUNTIME_PROVIDED:
            continue
        if installed.get(name) != version:
            stale.append(f"requirements.txt: {name}=={version} (built: {installed.get(name)})")
    assert not stale, f"The build is older than these sources; run `make build`: {stale}"


def _pins() -> dict[str, str]:
    """``requirements.txt``'s pins, names normalised as in :func:`_project_name`."""
    pins: dict[str, str] = {}
    for line in (ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[name.split("[", 1)[0].strip().lower().replace("-", "_")] = version.strip()
    return pins


def _installed_versions() -> dict[str, str]:
    """The layer's distributions and their versions, from the ``.dist-info`` names."""
    return {
        _project_name(info): info.name.removesuffix(".dist-info").rsplit("-", 1)[1]
        for info in LAYER.glob("*.dist-info")
    }


def test_the_layer_leaves_the_runtime_sdk_to_the_runtime(built: Path) -> None:
    # The Lambda runtime ships boto3 and its dependencies (see
    # layers/common/requirements.txt): a copy in the layer would only shadow them.
    shipped = sorted(set(_installed_versions()) & set(RUNTIME_PROVIDED))
    assert shipped == [], f"the layer ships the runtime's own packages: {shipped}"
    for module in ("boto3", "botocore", "s3transfer", "urllib3", "dateutil"):
        assert not (LAYER / module).exists(), f"{module}/ is in the layer"


def _project_name(entry: Path) -> str:
    name = entry.name
    for suffix in (".dist-info", ".data", ".egg-info", ".libs", ".py", ".pth"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix)
            if suffix in (".dist-info", ".data", ".egg-info"):
                name = name.rsplit("-", 1)[0]
            break
    return name.lower().replace("-", "_")


def _owned_by_a_distribution() -> set[str]:
    """Top-level entries of the layer listed in some installed distribution's RECORD."""
    owned: set[str] = set()
    for record in LAYER.glob("*.dist-info/RECORD"):
        for line in record.read_text(encoding="utf-8").splitlines():
            owned.add(line.split("/", 1)[0].split(",", 1)[0])
    return owned


def test_the_layer_holds_nothing_from_development(built: Path) -> None:
    entries = list(LAYER.iterdir())
    names = {_project_name(entry) for entry in entries}
    assert "voxcliente" in names and "aws_lambda_powertools" in names
    owned = _owned_by_a_distribution()
    found = sorted(
        entry.name
        for entry in entries
        if _project_name(entry) in DEV_ONLY
        or _project_name(entry).startswith(DEV_ONLY_PREFIXES)
        # Stub-only packages (``foo-stubs``) come from typing distributions, unless a
        # runtime wheel ships its own (wrapt does).
        or (entry.name.endswith("-stubs") and entry.name not in owned)
    )
    assert found == [], f"development-only packages in the built layer: {found}"


# --- each function, as built ------------------------------------------------------------------
def test_upload_api_presigns_reports_and_404s(
    functions: BuiltFunctions, aws: AwsEnv, db: psycopg.Connection[Any]
) -> None:
    # When the web client asks for an upload (events/api-post-uploads.json)
    created = functions.invoke("UploadApiFunction", load_event("api-post-uploads.json")).result
    # Then it gets a presigned POST to moto's bucket, restricted to its own key
    assert created["statusCode"] == 201, created
    body = json.loads(created["body"])
    assert body["url"].startswith(aws.endpoint) and SAMPLE_BUCKET in body["url"]
    assert body["fields"]["key"].startswith(f"uploads/{body['upload_id']}/")
    assert {"policy", "x-amz-signature"} <= set(body["fields"])
    upload = db.execute("SELECT * FROM uploads").fetchone()
    assert upload is not None and str(upload["id"]) == body["upload_id"]

    # When it asks how that upload is doing
    status_event = load_event("api-get-upload.json")
    known = copy.deepcopy(status_event)
    known["pathParameters"]["upload_id"] = body["upload_id"]
    known["rawPath"] = known["requestContext"]["http"]["path"] = f"/uploads/{body['upload_id']}"
    progress = functions.invoke("UploadApiFunction", known).result
    # Then the file is still awaited
    assert progress["statusCode"] == 200, progress
    assert json.loads(progress["body"])["status"] == "waiting_for_file"

    # And the sample's id, which nobody created, is a 404
    unknown = functions.invoke("UploadApiFunction", status_event).result
    assert unknown["statusCode"] == 404, unknown
    assert json.loads(unknown["body"])["error"]["code"]


def test_account_api_answers_the_signed_in_caller_only(
    functions: BuiltFunctions, aws: AwsEnv, db: psycopg.Connection[Any]
) -> None:
    # When the signed-in person of events/api-get-me.json asks for their account
    me_event = load_event("api-get-me.json")
    claims = me_event["requestContext"]["authorizer"]["jwt"]["claims"]
    me = functions.invoke("AccountApiFunction", me_event).result
    # Then their row is created from the token's verified email, with empty totals
    assert me["statusCode"] == 200, me
    account = json.loads(me["body"])
    assert account["user"]["email"] == claims["email"]
    assert account["totals"]["meetings"] == 0
    user = db.execute("SELECT auth_issuer, auth_subject FROM users").fetchone()
    assert user == {"auth_issuer": claims["iss"], "auth_subject": claims["sub"]}

    # And their history is empty, and a meeting that is not theirs is a 404
    listed = functions.invoke("AccountApiFunction", load_event("api-get-meetings.json")).result
    assert listed["statusCode"] == 200, listed
    assert json.loads(listed["body"]) == {"meetings": [], "next_cursor": None}
    other = functions.invoke("AccountApiFunction", load_event("api-get-meeting.json")).result
    assert other["statusCode"] == 404, other
    assert json.loads(other["body"])["error"]["code"] == "not_found"

    # And without the authorizer's claims nothing is answered
    anonymous = copy.deepcopy(me_event)
    del anonymous["requestContext"]["authorizer"]
    refused = functions.invoke("AccountApiFunction", anonymous).result
    assert refused["statusCode"] == 401, refused


def test_a_dropped_file_goes_all_the_way_to_the_inbox(
    providers: BuiltFunctions,
    aws: AwsEnv,
    assemblyai: Any,
    openai_api: Any,
    db: psycopg.Connection[Any],
) -> None:
    # Given the Spanish sample dropped at the key of events/s3-put-inbox.json
    s3_event, key = drop_sample_recording(aws, assemblyai)

    # When Submit gets the S3 event
    submitted = providers.invoke("SubmitFunction", s3_event).result
    # Then the meeting is submitted, once, with the webhook and its secret header
    [outcome] = submitted["results"]
    assert outcome["key"] == key and outcome["result"] == "submitted", submitted
    assert len(assemblyai.submissions) == 1
    submission = assemblyai.submissions[0]
    meeting = only_meeting(db)
    assert submission["webhook_url"] == f"{WEBHOOK_URL}?meeting_id={meeting['id']}"
    assert submission["webhook_auth_header_value"] == sample_webhook_secret()
    assert str(meeting["id"]) == outcome["meeting_id"] and meeting["status"] == "submitted"
    transcript_id = str(meeting["assemblyai_transcript_id"])
    assemblyai.wait(transcript_id)

    # When AssemblyAI calls the webhook (events/api-webhook-assemblyai.json, this transcript)
    webhook_event = load_event("api-webhook-assemblyai.json")
    webhook_event["body"] = json.dumps({"transcript_id": transcript_id, "status": "completed"})
    reply = providers.invoke("WebhookFunction", webhook_event).result
    # Then it answers 200 and one message waits on the acta queue
    assert reply["statusCode"] == 200, reply
    assert json.loads(reply["body"]) == {"meeting_id": outcome["meeting_id"], "outcome": "queued"}
    messages = aws.sqs.receive_message(
        QueueUrl=aws.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"])["meeting_id"] == outcome["meeting_id"]

    # When the Acta worker gets that message (in the shape of events/sqs-acta.json)
    sqs_event = load_event("sqs-acta.json")
    record = sqs_event["Records"][0]
    record.update(
        messageId=messages[0]["MessageId"],
        receiptHandle=messages[0]["ReceiptHandle"],
        body=messages[0]["Body"],
    )
    batch = providers.invoke("ActaFunction", sqs_event).result
    # Then no record failed, and SES sent exactly one email, to the person who dropped the file
    assert batch == {"batchItemFailures": []}
    [sent] = sent_emails()
    assert RECIPIENT in str(sent.destinations)
    assert only_meeting(db)["status"] == "emailed"
    assert len(openai_api.requests) >= 1
    delivery = db.execute("SELECT ses_message_id, status FROM email_deliveries").fetchone()
    assert delivery is not None and delivery["status"] == "sent"

    # When SES reports the delivery (events/sns-ses-delivery.json, this message)
    sns_event = load_event("sns-ses-delivery.json")
    notification = json.loads(sns_event["Records"][0]["Sns"]["Message"])
    notification["mail"]["messageId"] = delivery["ses_message_id"]
    sns_event["Records"][0]["Sns"]["Message"] = json.dumps(notification)
    recorded = providers.invoke("EmailEventsFunction", sns_event).result
    # Then it is recorded
    assert recorded == {"results": ["delivered"]}
    row = db.execute("SELECT status, delivered_at FROM email_deliveries").fetchone()
    assert row is not None and row["status"] == "delivered" and row["delivered_at"] is not None


def test_the_reconciler_continues_a_meeting_whose_webhook_never_came(
    providers: BuiltFunctions, aws: AwsEnv, assemblyai: Any, db: psycopg.Connection[Any]
) -> None:
    # Given a meeting submitted four hours ago whose webhook never arrived
    s3_event, _ = drop_sample_recording(aws, assemblyai)
    [outcome] = providers.invoke("SubmitFunction", s3_event).result["results"]
    assert outcome["result"] == "submitted"
    assemblyai.wait(str(only_meeting(db)["assemblyai_transcript_id"]))
    db.execute("UPDATE meetings SET submitted_at = now() - interval '4 hours'")

    # When the schedule fires (events/schedule.json)
    report = providers.invoke("ReconcilerFunction", load_event("schedule.json")).result

    # Then the report names it as continued, and its acta is queued
    assert report == {
        "submitted_checked": 1,
        "continued": [outcome["meeting_id"]],
        "requeued": [],
        "notices": [],
        "failed": [],
        "replayed": 0,
        "privacy": {
            "erasures_finished": 0,
            "meetings_purged": 0,
            "transcripts_purged": 0,
            "confirmations_purged": 0,
            "abandoned_uploads_purged": 0,
            "provider_transcripts_deleted": 0,
        },
    }
    assert [m["meeting_id"] for m in aws.queue_messages()] == [outcome["meeting_id"]]
    assert only_meeting(db)["status"] == "transcribed"


class _CloudFormation:
    """A local stand-in for the pre-signed S3 URL a custom resource answers to."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                answers.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _CloudFormation:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/cfn-response?X-Amz-Signature=local"


def test_migrate_applies_the_schema_and_answers_cloudformation(
    functions: BuiltFunctions, pg_server: str
) -> None:
    # Given an empty database and CloudFormation waiting for the answer
    url = postgres.recreate_database(pg_server, "voxcliente_artifact_migrate")
    sql_files = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    try:
        with _CloudFormation() as cloudformation:
            create = load_event("migrate-create.json")
            create["ResponseURL"] = cloudformation.url
            # When the stack is created
            returned = functions.invoke("MigrateFunction", create, DATABASE_URL=url).result
            # Then it answers SUCCESS with every migration applied
            assert returned is None
            [answer] = cloudformation.answers
            assert answer["Status"] == "SUCCESS", answer
            assert answer["RequestId"] == create["RequestId"]
            assert answer["LogicalResourceId"] == create["LogicalResourceId"]
            assert answer["PhysicalResourceId"] == "voxcliente-schema-migrations"
            assert answer["Data"] == {
                "Applied": ",".join(sql_files),
                "AppliedCount": str(len(sql_files)),
            }
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT to_regclass('public.meetings')").fetchone()
            assert row is not None and row[0] == "meetings"

            # When the stack is deleted, it answers SUCCESS and drops nothing
            delete = load_event("migrate-delete.json")
            delete["ResponseURL"] = cloudformation.url
            functions.invoke("MigrateFunction", delete, DATABASE_URL=url)
            assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS", "SUCCESS"]
            assert cloudformation.answers[1]["PhysicalResourceId"] == delete["PhysicalResourceId"]
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS voxcliente_artifact_migrate WITH (FORCE)")
