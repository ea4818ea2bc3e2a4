"""Every function, with the environment the template gives it, talks to the real services.

For each function of ``template.yaml`` in us-east-1 and eu-west-1, the process
environment is made exactly the function's (empty template values included:
SDKs read ``os.environ`` by themselves), the settings are loaded from it, and
every client the code builds is checked against the provider's public
endpoint: OpenAI, AssemblyAI, and boto3's S3, SQS, SES v2 and Secrets Manager
(each request's URL is recorded; moto answers in-process, the secrets
included). Presigned URLs must name the bucket on S3's *regional* host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from production.deployment import (
    FUNCTIONS,
    OPENAI_KEY,
    REGIONS,
    SENDER,
    Deployment,
    deploy,
    use_environment,
)
from voxlocal import events

pytestmark = pytest.mark.production

OPENAI_BASE = "https://api.openai.com/v1/"
TINY_MP3 = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.mp3"


@pytest.fixture(scope="module")
def deployments() -> Iterator[dict[str, Deployment]]:
    """The stack in both regions, in one in-process moto account (real host names work)."""
    import boto3
    from moto import mock_aws

    def clients_in(region: str) -> Callable[[str], Any]:
        # A service named at run time: the stubs type clients per literal name.
        return lambda service: boto3.client(service, region_name=region)  # type: ignore[call-overload]

    with mock_aws():
        yield {region: deploy(region, clients_in(region)) for region in REGIONS}


@pytest.fixture(params=REGIONS)
def deployed(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[str(request.param)]


class RequestLog:
    """URLs of the requests botocore makes, recorded as they are created (after
    endpoint resolution and bucket addressing, before signing and sending)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def watch(self, client: Any) -> Any:
        client.meta.events.register("request-created", self._record)
        return client

    def _record(self, request: Any, **_: Any) -> None:
        self.urls.append(str(request.url))

    def hosts(self) -> set[str]:
        return {str(urlsplit(url).netloc) for url in self.urls}


def _assert_https_host(url: str, host: str, what: str) -> None:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", host), (
        f"{what} goes to {parts.scheme}://{parts.netloc}, not https://{host}: {url}"
    )


def openai_client_of_generation(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``openai.OpenAI`` that ``generation.generate_acta`` builds from ``settings``
    (``openai_api.shared_client``: one per execution environment and settings)."""
    from voxcliente.adapters import openai_api

    return openai_api.shared_client(settings)


def check_every_client(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``os.environ`` already the function's: every client targets the public endpoint."""
    from voxcliente.adapters import assemblyai, aws
    from voxcliente.settings import get_settings

    region = deployment.region
    settings = get_settings()
    assert settings.aws_region == region
    assert settings.aws_endpoint_url is None

    # OpenAI, as generation.py builds it (a function without the key's secret
    # never builds it, but the environment must not be able to break it either).
    keyed = (
        settings
        if settings.openai_secret_id
        else settings.model_copy(update={"openai_api_key": OPENAI_KEY})
    )
    client = openai_client_of_generation(keyed, monkeypatch)
    assert str(client.base_url) == OPENAI_BASE, f"OpenAI base URL is {client.base_url!r}"
    if settings.openai_secret_id:
        assert client.api_key == OPENAI_KEY  # read from Secrets Manager

    # AssemblyAI, as assemblyai.py builds it.
    keyed = (
        settings
        if settings.assemblyai_secret_id
        else settings.model_copy(update={"assemblyai_api_key": "test-assemblyai-key"})
    )
    base = assemblyai._client(keyed).http_client.base_url
    assert (base.scheme, base.host, base.port, base.path) == (
        "https",
        "api.assemblyai.com",
        None,
        "/",
    ), f"AssemblyAI base URL is {base!r}"

    # boto3, through voxcliente.adapters.aws.client: the URL of a real call of each.
    log = RequestLog()
    s3 = log.watch(aws.client("s3"))
    s3.put_object(Bucket=deployment.bucket, Key="inbox/probe", Body=b"x")
    log.watch(aws.client("sqs")).send_message(QueueUrl=deployment.queue_url, MessageBody="{}")
    log.watch(aws.client("sesv2")).get_email_identity(EmailIdentity=SENDER)
    log.watch(aws.client("secretsmanager"))
    # The database credentials: DB_HOST + the RDS-managed secret named by DB_SECRET_ID.
    assert "voxcliente_admin" in settings.get_database_conninfo()
    expected = {
        f"{deployment.bucket}.s3.{region}.amazonaws.com",
        f"sqs.{region}.amazonaws.com",
        f"email.{region}.amazonaws.com",
        f"secretsmanager.{region}.amazonaws.com",
    }
    assert log.hosts() == expected, f"boto3 went to {sorted(log.hosts())}"
    for url in log.urls:
        assert url.startswith("https://"), f"not HTTPS: {url}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_client_targets_the_public_regional_endpoint(
    function: str, deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the process environment is exactly the function's, in this region
    env = deployed.environment(function)
    use_environment(monkeypatch, env)
    from voxcliente.adapters import aws
    from voxcliente.settings import get_settings, load_settings

    # Then: the settings read from exactly that environment...
    assert load_settings(env) == get_settings()
    # ...and every client built from them targets the providers' public endpoints.
    secret_reads = RequestLog()
    secret_reads.watch(aws.client("secretsmanager"))
    check_every_client(deployed, monkeypatch)
    for url in secret_reads.urls:
        _assert_https_host(url, f"secretsmanager.{deployed.region}.amazonaws.com", "a secret")


# Every provider setting an SDK may read from the environment by itself.
EMPTY_PROVIDER_SETTINGS = (
    "OPENAI_BASE_URL",
    "ASSEMBLYAI_BASE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
)


@pytest.mark.parametrize("blank", ["", "  "], ids=["empty", "spaces"])
def test_blank_provider_settings_never_reach_an_sdk(
    blank: str, deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the Acta function's environment with every provider setting blank
    # (a template value of "" is not "unset" to every SDK)
    blanks = dict.fromkeys(EMPTY_PROVIDER_SETTINGS, blank)
    use_environment(monkeypatch, deployed.environment("ActaFunction"), **blanks)
    # Then: every client still targets the public endpoint
    check_every_client(deployed, monkeypatch)


def test_an_empty_openai_base_url_in_os_environ_still_targets_api_openai_com(
    deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.settings import get_settings

    use_environment(monkeypatch, deployed.environment("ActaFunction"), OPENAI_BASE_URL="")
    client = openai_client_of_generation(get_settings(), monkeypatch)
    assert str(client.base_url) == OPENAI_BASE


def test_the_openai_sdk_left_to_itself_takes_an_empty_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why the settings must always pass base_url: the trap the tests above guard."""
    import openai

    monkeypatch.setenv("OPENAI_BASE_URL", "")
    client = openai.OpenAI(api_key="sk-test")
    assert str(client.base_url) != OPENAI_BASE


def test_the_presigned_post_names_the_bucket_on_the_regional_host(
    deployed: Deployment, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.domain.identity import Caller
    from voxcliente.flows import upload_api

    # Given: the UploadApi function's environment (its database from the test's server)
    env = deployed.environment("UploadApiFunction")
    use_environment(monkeypatch, env, DATABASE_URL=db_url, DB_SSLMODE="disable")
    # When: a browser asks for an upload
    caller = Caller(
        issuer="https://clerk.voxcliente.example",
        subject="user_1",
        email="ana.mendez@example.com",
        email_verified=True,
    )
    answer = upload_api.create_upload(
        {"filename": "reunion.mp3", "content_type": "audio/mpeg", "size_bytes": 1000}, caller
    )
    # Then: it posts to https://<bucket>.s3.<region>.amazonaws.com/, signed for the region
    region = deployed.region
    _assert_https_host(answer["url"], f"{deployed.bucket}.s3.{region}.amazonaws.com", "the POST")
    assert urlsplit(answer["url"]).path == "/"
    credential = answer["fields"]["x-amz-credential"]
    assert f"/{region}/s3/aws4_request" in credential, credential


def test_the_presigned_get_assemblyai_fetches_names_the_regional_host(
    deployed: Deployment, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from voxcliente.adapters import assemblyai
    from voxcliente.flows import submit

    # Given: an audio file in the inbox and the Submit function's environment
    key = "inbox/ana.mendez@example.com/reunion.mp3"
    audio = TINY_MP3.read_bytes()
    boto3.client("s3", region_name=deployed.region).put_object(
        Bucket=deployed.bucket, Key=key, Body=audio, ContentType="audio/mpeg"
    )
    env = deployed.environment("SubmitFunction")
    use_environment(monkeypatch, env, DATABASE_URL=db_url, DB_SSLMODE="disable")
    submitted: list[str] = []

    def accept(audio_url: str, **_: Any) -> str:
        submitted.append(audio_url)
        return "transcript-id"

    monkeypatch.setattr(assemblyai, "submit", accept)
    # When: Submit handles the S3 event
    (ref,) = submit.object_refs(events.s3_put(deployed.bucket, key, size=len(audio)))
    outcome = submit.process_object(ref)
    # Then: AssemblyAI is given https://<bucket>.s3.<region>.amazonaws.com/<key>?<signature>
    assert outcome.result == "submitted", outcome
    (url,) = submitted
    region = deployed.region
    _assert_https_host(url, f"{deployed.bucket}.s3.{region}.amazonaws.com", "the presigned GET")
    query = parse_qs(urlsplit(url).query)
    assert f"/{region}/s3/aws4_request" in query["X-Amz-Credential"][0]
