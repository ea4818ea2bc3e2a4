"""boto3 clients are built from the settings alone: region, endpoint, S3 addressing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voxcliente.adapters import aws
from voxcliente.settings import load_settings, reset_settings


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # As the template leaves it: declared, empty.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    aws.reset_clients()
    yield
    aws.reset_clients()
    reset_settings()


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "eu-south-2"])
def test_presigned_urls_name_the_regional_virtual_hosted_endpoint(
    region: str, deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: presigned URLs named the global endpoint (`<bucket>.s3.amazonaws.com`),
    which answers 307 for a new bucket outside us-east-1 (the browser's CORS preflight
    and AssemblyAI's download fail) and never works in opt-in regions."""
    monkeypatch.setenv("AWS_REGION", region)
    reset_settings()
    s3 = aws.client("s3")
    regional = f"https://voxcliente-audio.s3.{region}.amazonaws.com/"
    post = s3.generate_presigned_post("voxcliente-audio", "uploads/x/a.mp3")
    get = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "voxcliente-audio", "Key": "inbox/a.mp3"}
    )
    assert post["url"] == regional
    assert get.startswith(regional + "inbox/a.mp3?")
    assert f"/{region}/s3/aws4_request" in post["fields"]["x-amz-credential"]


def test_no_client_reads_an_endpoint_from_the_environment_by_itself(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    # Settings say "no endpoint": only what the settings hold counts.
    monkeypatch.setattr(aws, "get_settings", lambda: load_settings({"AWS_REGION": "eu-west-1"}))
    for service, host in [
        ("sqs", "https://sqs.eu-west-1.amazonaws.com"),
        ("sesv2", "https://email.eu-west-1.amazonaws.com"),
        ("secretsmanager", "https://secretsmanager.eu-west-1.amazonaws.com"),
    ]:
        assert aws.client(service).meta.endpoint_url == host


def test_a_local_endpoint_from_the_settings_uses_path_style(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    reset_settings()
    post = aws.client("s3").generate_presigned_post("voxcliente-audio", "uploads/x/a.mp3")
    assert post["url"] == "http://127.0.0.1:5000/voxcliente-audio"


def test_ses_is_never_retried_by_botocore(deployed: None) -> None:
    """A read timeout after SES accepted a message would be retried into a second
    email (defect 8): the worker's claim and the queue decide retries instead."""
    assert aws.client("sesv2").meta.config.retries["total_max_attempts"] == 1
    assert aws.client("sqs").meta.config.retries["total_max_attempts"] == 4  # 3 retries
