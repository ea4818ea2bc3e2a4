"""The test proxy: real host names to local doubles over TLS, everything else refused."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from voxlocal.emulators.openai_server import OpenAIEmulator
from voxlocal.https_proxy import HttpsProxy, Route, aws_regional_routes

pytestmark = pytest.mark.production


@pytest.fixture
def openai_double() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(api_key="sk-proxy-test") as emulator:
        yield emulator


@pytest.fixture
def proxy(openai_double: OpenAIEmulator) -> Iterator[HttpsProxy]:
    upstream = ("127.0.0.1", int(openai_double.origin.rsplit(":", 1)[1]))
    routes = [Route(r"api\.openai\.com", upstream), *aws_regional_routes("eu-west-1", upstream)]
    with HttpsProxy(routes) as running:
        yield running


def client(proxy: HttpsProxy) -> httpx.Client:
    trust = ssl.create_default_context(cafile=str(proxy.ca_file))
    return httpx.Client(proxy=proxy.url, verify=trust, trust_env=False)


def test_a_routed_host_gets_tls_for_its_name_and_the_request_unchanged(
    proxy: HttpsProxy, openai_double: OpenAIEmulator
) -> None:
    with client(proxy) as http:
        answer = http.get(
            "https://api.openai.com/v1/models", headers={"authorization": "Bearer sk-proxy-test"}
        )
    # The emulator answered (it knows no /v1/models), over TLS the client verified.
    assert answer.status_code == 404
    assert proxy.connects == ["api.openai.com:443"]
    assert proxy.refused == []
    (seen,) = openai_double.all_requests
    assert seen.headers["host"] == "api.openai.com"
    assert seen.path == "/v1/models"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://api.openai.example/v1/models", "no route for this host"),
        ("https://s3.amazonaws.com/bucket/key", "no route for this host"),  # global S3
        ("https://bucket.s3.amazonaws.com/key", "no route for this host"),  # global S3
        ("https://s3.us-east-1.amazonaws.com/bucket/key", "no route for this host"),  # region
        ("https://api.openai.com:8443/v1/models", "only port 443"),
    ],
)
def test_an_unknown_host_or_port_is_refused(proxy: HttpsProxy, url: str, reason: str) -> None:
    with client(proxy) as http, pytest.raises(httpx.ProxyError):
        http.get(url)
    (refusal,) = proxy.refused
    assert reason in refusal


def test_plain_http_is_refused(proxy: HttpsProxy) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open("http://api.openai.com/v1/models", timeout=5)
    assert refused.value.code == 403
    assert "plain HTTP" in proxy.refused[0]


def test_a_client_that_does_not_trust_the_test_ca_fails(proxy: HttpsProxy) -> None:
    with (
        httpx.Client(proxy=proxy.url, trust_env=False) as http,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        http.get("https://api.openai.com/v1/models")


def test_the_environment_it_gives_sends_each_sdk_through_it(
    proxy: HttpsProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each SDK reads: httpx/httpx2 HTTPS_PROXY + SSL_CERT_FILE, botocore
    HTTPS_PROXY + AWS_CA_BUNDLE."""
    import boto3
    import openai
    from botocore.config import Config
    from botocore.exceptions import ClientError

    for name, value in proxy.client_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sdk = openai.OpenAI(api_key="sk-proxy-test", base_url="https://api.openai.com/v1")
    with pytest.raises(openai.NotFoundError):
        sdk.models.list()
    s3: Any = boto3.client(  # type: ignore[call-overload]
        "s3",
        region_name="eu-west-1",
        # A real botocore option its stubs do not list yet.
        config=Config(ignore_configured_endpoint_urls=True, retries={"max_attempts": 1}),  # type: ignore[call-arg]
    )
    # Reaches the emulator, which is no S3: an HTTP answer (a refusal would be a
    # ProxyConnectionError, an untrusted certificate an SSLError).
    with pytest.raises(ClientError) as answered:
        s3.head_bucket(Bucket="voxcliente-audio-123456789012-eu-west-1-dev")
    assert answered.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert proxy.hosts() == [
        "api.openai.com:443",
        "voxcliente-audio-123456789012-eu-west-1-dev.s3.eu-west-1.amazonaws.com:443",
    ]
    assert proxy.refused == []


def test_starting_it_leaves_the_stdlib_server_class_as_it_was(proxy: HttpsProxy) -> None:
    """Its listener's settings live on its own subclass: other servers in the process
    (moto's, the emulators') keep the stdlib defaults."""
    import socketserver

    assert proxy.url  # started
    assert socketserver.ThreadingTCPServer.allow_reuse_address is False
    assert socketserver.ThreadingTCPServer.daemon_threads is False
