"""The strict AWS doubles: S3 enforces a presigned POST's signed policy, SES v2 its limits.

The moto server of the test session has ``voxlocal.aws_doubles`` in front of it
(see conftest): these tests prove each refusal with the error the real service
answers, and that our code maps the SES refusals to a final outcome.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import SENDER, AwsEnv, sent_emails
from voxcliente.adapters import aws as vox_aws
from voxcliente.adapters import ses as vox_email
from voxcliente.domain.errors import ProviderError
from voxlocal.aws_doubles import (
    SES_V2_MAX_MESSAGE_BYTES,
    PostForm,
    S3Error,
    check_post_policy,
    parse_form,
)

pytestmark = pytest.mark.integration

AUDIO = b"ID3" + bytes(range(256)) * 4  # 1,027 bytes, every byte value, CRLFs included
KEY = "uploads/7b1e0c52/reunion.mp3"
UPLOAD_ID = "7b1e0c52-0000-4000-8000-000000000001"


# --------------------------------------------------------------------------- helpers


def presign(
    aws: AwsEnv, *, key: str = KEY, max_bytes: int = len(AUDIO), expires_in: int = 600
) -> dict[str, Any]:
    """A presigned POST built the way ``voxcliente.flows.upload_api`` builds it."""
    presigned: dict[str, Any] = vox_aws.client("s3").generate_presigned_post(
        Bucket=aws.bucket,
        Key=key,
        Fields={"Content-Type": "audio/mpeg", "x-amz-meta-upload-id": UPLOAD_ID},
        Conditions=[
            {"Content-Type": "audio/mpeg"},
            {"x-amz-meta-upload-id": UPLOAD_ID},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=expires_in,
    )
    return presigned


def form_body(
    fields: Sequence[tuple[str, str]],
    file: bytes | None,
    *,
    filename: str = "reunión.mp3",
    after: Sequence[tuple[str, str]] = (),
) -> tuple[bytes, str]:
    """``multipart/form-data`` as a browser sends it: fields, the file, then anything after."""
    boundary = uuid.uuid4().hex

    def text(name: str, value: str) -> bytes:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        return head.encode() + value.encode() + b"\r\n"

    parts = [text(name, value) for name, value in fields]
    if file is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: audio/mpeg\r\n\r\n'.encode()
            + file
            + b"\r\n"
        )
    parts += [text(name, value) for name, value in after]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post(
    url: str, fields: dict[str, str], file: bytes | None, *, host: str | None = None, **kw: Any
) -> tuple[int, Any]:
    """POST the form; return the status and, for an error, S3's ``<Error>`` as a dict.

    ``host`` sends that ``Host`` header instead of the URL's (a virtual-hosted bucket).
    """
    body, content_type = form_body(list(fields.items()), file, **kw)
    headers = {"Content-Type": content_type}
    if host is not None:
        headers["Host"] = host
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        root = ET.fromstring(exc.read())  # noqa: S314 - the loopback double's own XML
        return exc.code, {child.tag: child.text for child in root}


def stored_keys(aws: AwsEnv) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])]


def condition_failed(condition: list[Any]) -> str:
    return f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"


# --------------------------------------------------------------------------- S3 presigned POST


def test_a_post_within_its_policy_is_stored(aws: AwsEnv) -> None:
    presigned = presign(aws)

    status, error = post(presigned["url"], presigned["fields"], AUDIO)

    assert (status, error) == (204, None)
    stored = aws.s3.get_object(Bucket=aws.bucket, Key=KEY)
    assert stored["Body"].read() == AUDIO  # the bytes passed the check unchanged
    assert stored["ContentType"] == "audio/mpeg"
    assert stored["Metadata"] == {"upload-id": UPLOAD_ID}


def test_fields_after_the_file_are_ignored(aws: AwsEnv) -> None:
    presigned = presign(aws)

    # An unsigned field after the file would be refused before it (Extra input fields)
    status, _ = post(presigned["url"], presigned["fields"], AUDIO, after=[("evil", "1")])

    assert status == 204
    assert stored_keys(aws) == [KEY]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"key": "uploads/someone-else/x.mp3"},
            (403, "AccessDenied", condition_failed(["eq", "$key", KEY])),
            id="wrong-key",
        ),
        pytest.param(
            {"Content-Type": "text/html"},
            (403, "AccessDenied", condition_failed(["eq", "$Content-Type", "audio/mpeg"])),
            id="wrong-content-type",
        ),
        pytest.param(
            {"x-amz-meta-upload-id": "another-upload"},
            (403, "AccessDenied", condition_failed(["eq", "$x-amz-meta-upload-id", UPLOAD_ID])),
            id="wrong-metadata",
        ),
        pytest.param(
            {"x-amz-meta-owner": "mallory@example.com"},
            (
                403,
                "AccessDenied",
                "Invalid according to Policy: Extra input fields: x-amz-meta-owner",
            ),
            id="unsigned-extra-field",
        ),
        pytest.param(
            {"x-amz-signature": "0" * 64},
            (403, "SignatureDoesNotMatch", None),
            id="bad-signature",
        ),
    ],
)
def test_a_form_outside_its_policy_is_refused(
    aws: AwsEnv, change: dict[str, str], expected: tuple[int, str, str | None]
) -> None:
    presigned = presign(aws)
    fields = {**presigned["fields"], **change}

    status, error = post(presigned["url"], fields, AUDIO)

    want_status, want_code, want_message = expected
    assert (status, error["Code"]) == (want_status, want_code), error
    if want_message is not None:
        assert error["Message"] == want_message
    assert stored_keys(aws) == []


def test_a_file_over_the_signed_size_is_too_large(aws: AwsEnv) -> None:
    presigned = presign(aws, max_bytes=len(AUDIO) - 1)

    status, error = post(presigned["url"], presigned["fields"], AUDIO)

    assert status == 400
    assert error == {
        "Code": "EntityTooLarge",
        "Message": "Your proposed upload exceeds the maximum allowed size",
        "ProposedSize": str(len(AUDIO)),
        "MaxSizeAllowed": str(len(AUDIO) - 1),
    }
    assert stored_keys(aws) == []


def test_an_empty_file_is_too_small(aws: AwsEnv) -> None:
    presigned = presign(aws)

    status, error = post(presigned["url"], presigned["fields"], b"")

    assert (status, error["Code"], error["MinSizeAllowed"]) == (400, "EntityTooSmall", "1")
    assert stored_keys(aws) == []


def test_a_policy_rewritten_by_the_client_no_longer_matches_its_signature(
    aws: AwsEnv,
) -> None:
    # Given the browser widens the size range in the policy it was handed
    presigned = presign(aws)
    policy = json.loads(base64.b64decode(presigned["fields"]["policy"]))
    policy["conditions"] = [
        ["content-length-range", 1, 10**10] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    widened = base64.b64encode(json.dumps(policy).encode()).decode("ascii")

    status, error = post(presigned["url"], {**presigned["fields"], "policy": widened}, AUDIO)

    assert (status, error["Code"]) == (403, "SignatureDoesNotMatch")
    assert stored_keys(aws) == []


def test_an_expired_policy_is_refused(aws: AwsEnv) -> None:
    presigned = presign(aws, expires_in=-1)  # expired a second ago

    status, error = post(presigned["url"], presigned["fields"], AUDIO)

    assert (status, error["Code"]) == (403, "AccessDenied")
    assert error["Message"] == "Invalid according to Policy: Policy expired."
    assert stored_keys(aws) == []


def test_a_post_to_another_bucket_fails_the_bucket_condition(aws: AwsEnv) -> None:
    aws.s3.create_bucket(Bucket="voxcliente-other")
    presigned = presign(aws)
    url = presigned["url"].replace(aws.bucket, "voxcliente-other")

    status, error = post(url, presigned["fields"], AUDIO)

    assert (status, error["Code"]) == (403, "AccessDenied")
    assert error["Message"] == condition_failed(["eq", "$bucket", aws.bucket])


# Through the production tier's HTTPS proxy a browser upload arrives virtual-hosted:
# ``Host: <bucket>.s3.<region>.amazonaws.com`` and the form POSTed to ``/``.
def virtual_host(aws: AwsEnv, host: str) -> str:
    port = urllib.parse.urlsplit(aws.endpoint).port
    return host.format(bucket=aws.bucket, port=port)


@pytest.mark.parametrize(
    "host",
    [
        "{bucket}.s3.us-east-1.amazonaws.com",
        "{bucket}.s3.us-east-1.amazonaws.com:{port}",
        "{bucket}.s3.amazonaws.com",
    ],
)
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch"),
        ({"key": "uploads/someone-else/x.mp3"}, "AccessDenied"),
    ],
    ids=["bad-signature", "outside-policy"],
)
def test_a_virtual_hosted_post_outside_its_policy_is_refused(
    aws: AwsEnv, host: str, change: dict[str, str], code: str
) -> None:
    presigned = presign(aws)

    status, error = post(
        f"{aws.endpoint}/",
        {**presigned["fields"], **change},
        AUDIO,
        host=virtual_host(aws, host),
    )

    assert (status, error["Code"]) == (403, code), error
    assert stored_keys(aws) == []


def test_a_virtual_hosted_post_within_its_policy_is_stored(aws: AwsEnv) -> None:
    presigned = presign(aws)

    status, error = post(
        f"{aws.endpoint}/",
        presigned["fields"],
        AUDIO,
        host=virtual_host(aws, "{bucket}.s3.us-east-1.amazonaws.com:{port}"),
    )

    assert (status, error) == (204, None)
    assert aws.s3.get_object(Bucket=aws.bucket, Key=KEY)["Body"].read() == AUDIO


def test_a_virtual_hosted_post_to_another_bucket_fails_the_bucket_condition(
    aws: AwsEnv,
) -> None:
    # The bucket named by the Host header is the one the policy's bucket condition sees
    aws.s3.create_bucket(Bucket="voxcliente-other")
    presigned = presign(aws)

    status, error = post(
        f"{aws.endpoint}/",
        presigned["fields"],
        AUDIO,
        host="voxcliente-other.s3.us-east-1.amazonaws.com",
    )

    assert (status, error["Code"]) == (403, "AccessDenied")
    assert error["Message"] == condition_failed(["eq", "$bucket", aws.bucket])
    assert aws.s3.list_objects_v2(Bucket="voxcliente-other").get("Contents", []) == []


def test_an_unknown_access_key_is_refused(aws: AwsEnv) -> None:
    presigned = presign(aws)
    credential = presigned["fields"]["x-amz-credential"].replace("testing/", "AKIAUNKNOWN/", 1)

    status, error = post(
        presigned["url"], {**presigned["fields"], "x-amz-credential": credential}, AUDIO
    )

    assert (status, error["Code"], error["AWSAccessKeyId"]) == (
        403,
        "InvalidAccessKeyId",
        "AKIAUNKNOWN",
    )


# The published example of the S3 API reference, "Example: Browser-Based Upload using HTTP
# POST (Using AWS Signature Version 4)": its policy (CRLF line endings), example credentials
# and the signature the page gives; field names as its form spells them.
AWS_EXAMPLE_POLICY = (
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
)
AWS_EXAMPLE_SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
AWS_EXAMPLE_CREDENTIALS = {"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
AWS_EXAMPLE_FIELDS = [
    ("key", "user/user1/${filename}"),
    ("acl", "public-read"),
    (
        "success_action_redirect",
        "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
    ),
    ("Content-Type", "image/jpeg"),
    ("x-amz-meta-uuid", "14365123651274"),
    ("x-amz-server-side-encryption", "AES256"),
    ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
    ("X-Amz-Date", "20151229T000000Z"),
    ("x-amz-meta-tag", ""),
    ("Policy", AWS_EXAMPLE_POLICY),
    ("X-Amz-Signature", AWS_EXAMPLE_SIGNATURE),
]
BEFORE_EXPIRY = datetime(2015, 12, 29, 12, 0, tzinfo=UTC)


def example_form(**changes: str) -> PostForm:
    fields = [(name, changes.get(name, value)) for name, value in AWS_EXAMPLE_FIELDS]
    body, content_type = form_body(fields, b"\xff\xd8 jpeg", filename="gato.jpg")
    return parse_form(body, content_type)


def test_the_published_aws_example_is_accepted() -> None:
    form = example_form()

    check_post_policy(
        form,
        bucket="sigv4examplebucket",
        credentials=AWS_EXAMPLE_CREDENTIALS,
        now=BEFORE_EXPIRY,
    )

    assert form.file == b"\xff\xd8 jpeg"
    assert form.filename == "gato.jpg"


@pytest.mark.parametrize(
    ("changes", "now", "credentials", "code", "message"),
    [
        (
            {},
            datetime(2015, 12, 30, 12, 0, tzinfo=UTC),
            None,
            "AccessDenied",
            "Invalid according to Policy: Policy expired.",
        ),
        (
            {},
            BEFORE_EXPIRY,
            {"AKIAIOSFODNN7EXAMPLE": "another-secret"},
            "SignatureDoesNotMatch",
            None,
        ),
        (
            {"Content-Type": "text/html"},
            BEFORE_EXPIRY,
            None,
            "AccessDenied",
            condition_failed(["starts-with", "$Content-Type", "image/"]),
        ),
        (
            {"key": "user/user2/${filename}"},
            BEFORE_EXPIRY,
            None,
            "AccessDenied",
            condition_failed(["starts-with", "$key", "user/user1/"]),
        ),
        (
            {"acl": "public-read-write"},
            BEFORE_EXPIRY,
            None,
            "AccessDenied",
            condition_failed(["eq", "$acl", "public-read"]),
        ),
    ],
    ids=["expired", "other-secret", "not-an-image", "other-user", "other-acl"],
)
def test_the_published_aws_example_is_refused_when_changed(
    changes: dict[str, str],
    now: datetime,
    credentials: dict[str, str] | None,
    code: str,
    message: str | None,
) -> None:
    with pytest.raises(S3Error) as caught:
        check_post_policy(
            example_form(**changes),
            bucket="sigv4examplebucket",
            credentials=credentials or AWS_EXAMPLE_CREDENTIALS,
            now=now,
        )

    assert caught.value.code == code
    if message is not None:
        assert caught.value.message == message


# --------------------------------------------------------------------------- SES v2 limits


def raw_message(sender: str, body: str = "Hola.") -> bytes:
    return (
        f"From: {sender}\r\nTo: lucia@example.com\r\nSubject: Acta\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n"
    ).encode("ascii")


def ses(aws: AwsEnv) -> Any:
    return boto3.client("sesv2", endpoint_url=aws.endpoint, region_name="us-east-1")


def test_ses_refuses_an_unverified_sender(aws: AwsEnv) -> None:
    with pytest.raises(ClientError) as caught:
        ses(aws).send_email(
            FromEmailAddress="otro@unverified.test",
            Destination={"ToAddresses": ["lucia@example.com"]},
            Content={"Raw": {"Data": raw_message("otro@unverified.test")}},
        )

    error = caught.value.response["Error"]
    assert error["Code"] == "MessageRejected"
    assert error["Message"] == (
        "Email address is not verified. The following identities failed the check in "
        "region US-EAST-1: otro@unverified.test"
    )
    assert sent_emails() == []


def test_ses_checks_the_from_header_too(aws: AwsEnv) -> None:
    # Given a verified envelope sender but another address in the From header
    with pytest.raises(ClientError) as caught:
        ses(aws).send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["lucia@example.com"]},
            Content={"Raw": {"Data": raw_message("Alguien <alguien@unverified.test>")}},
        )

    assert caught.value.response["Error"]["Code"] == "MessageRejected"
    assert caught.value.response["Error"]["Message"].endswith(": alguien@unverified.test")
    assert sent_emails() == []


def test_an_unverified_sender_is_a_final_failure_of_our_send(aws: AwsEnv) -> None:
    raw = raw_message("otro@unverified.test")

    with pytest.raises(ProviderError) as caught:
        vox_email.send_raw_email(
            raw,
            sender="otro@unverified.test",
            recipient="lucia@example.com",
            configuration_set=None,
        )

    assert caught.value.code == "ses_rejected"
    assert "MessageRejected" in caught.value.message
    assert "Email address is not verified" in caught.value.message
    assert sent_emails() == []


def test_a_verified_sender_goes_through(aws: AwsEnv) -> None:
    raw = raw_message(f"VoxCliente <{SENDER}>")

    message_id = vox_email.send_raw_email(
        raw, sender=SENDER, recipient="lucia@example.com", configuration_set=None
    )

    [sent] = sent_emails()
    assert sent.id == message_id
    assert sent.raw_data.encode("ascii") == raw


def test_ses_refuses_a_message_over_40_mb_and_our_send_treats_it_as_final(
    aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given our own guard lifted, so that the message reaches SES
    monkeypatch.setattr(vox_email, "SES_MAX_MESSAGE_BYTES", 2 * SES_V2_MAX_MESSAGE_BYTES)
    head = raw_message(f"VoxCliente <{SENDER}>", body="")
    raw = head + b"x" * (SES_V2_MAX_MESSAGE_BYTES + 1 - len(head))

    with pytest.raises(ProviderError) as caught:
        vox_email.send_raw_email(
            raw, sender=SENDER, recipient="lucia@example.com", configuration_set=None
        )

    assert caught.value.code == "ses_rejected"
    assert (
        f"Message length is more than {SES_V2_MAX_MESSAGE_BYTES} bytes long: "
        f"'{SES_V2_MAX_MESSAGE_BYTES + 1}'." in caught.value.message
    )
    assert sent_emails() == []


# --------------------------------------------------------------------------- SES v2 request


def send(aws: AwsEnv, **request: Any) -> Any:
    return ses(aws).send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["lucia@example.com"]},
        Content={"Raw": {"Data": raw_message(f"VoxCliente <{SENDER}>")}},
        **request,
    )


def test_ses_refuses_a_configuration_set_the_account_does_not_have(aws: AwsEnv) -> None:
    with pytest.raises(ClientError) as caught:
        send(aws, ConfigurationSetName="voxcliente-events")

    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert (error["Code"], error["Message"]) == (
        "NotFoundException",
        "Configuration set voxcliente-events does not exist.",
    )
    assert sent_emails() == []


def test_ses_sends_with_a_configuration_set_that_exists(aws: AwsEnv) -> None:
    ses(aws).create_configuration_set(ConfigurationSetName="voxcliente-events")

    message_id = vox_email.send_raw_email(
        raw_message(f"VoxCliente <{SENDER}>"),
        sender=SENDER,
        recipient="lucia@example.com",
        configuration_set="voxcliente-events",
        tags=vox_email.meeting_tags(uuid.UUID(UPLOAD_ID), "acta"),
    )

    [sent] = sent_emails()
    assert sent.id == message_id


def test_a_missing_configuration_set_is_a_final_failure_of_our_send(aws: AwsEnv) -> None:
    with pytest.raises(ProviderError) as caught:
        vox_email.send_raw_email(
            raw_message(f"VoxCliente <{SENDER}>"),
            sender=SENDER,
            recipient="lucia@example.com",
            configuration_set="never-created",
        )

    assert caught.value.code == "ses_rejected"
    assert "NotFoundException" in caught.value.message
    assert sent_emails() == []


TAG_CHARACTERS = "only alphanumeric ASCII characters, '_', and '-' are allowed."


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        pytest.param(
            {"Name": "meeting:id", "Value": "x"},
            f"Invalid tag name <meeting:id>: {TAG_CHARACTERS}",
            id="colon-in-name",
        ),
        pytest.param(
            {"Name": "recipient", "Value": "lucia@example.com"},
            f"Invalid tag value <lucia@example.com>: {TAG_CHARACTERS}",
            id="address-as-value",
        ),
        pytest.param(
            {"Name": "kind", "Value": "reunión"},
            f"Invalid tag value <reunión>: {TAG_CHARACTERS}",
            id="non-ascii-value",
        ),
        pytest.param(
            {"Name": "kind", "Value": "a b"},
            f"Invalid tag value <a b>: {TAG_CHARACTERS}",
            id="space",
        ),
        pytest.param(
            {"Name": "n" * 257, "Value": "x"},
            f"Invalid tag name <{'n' * 32}...>: it has 257 characters; at most 256 are allowed.",
            id="name-too-long",
        ),
        pytest.param(
            {"Name": "kind", "Value": "v" * 257},
            f"Invalid tag value <{'v' * 32}...>: it has 257 characters; at most 256 are allowed.",
            id="value-too-long",
        ),
    ],
)
def test_ses_refuses_message_tags_outside_its_rules(
    aws: AwsEnv, tag: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        send(aws, EmailTags=[{"Name": "ok", "Value": "ok"}, tag])

    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (error["Code"], error["Message"]) == ("BadRequestException", message)
    assert sent_emails() == []


def test_ses_takes_message_tags_within_its_rules(aws: AwsEnv) -> None:
    tags = [
        {"Name": "n" * 256, "Value": "v" * 256},  # the longest allowed
        {"Name": "voxcliente_meeting_id", "Value": UPLOAD_ID},
        {"Name": "Kind-2", "Value": "acta_final"},
    ]

    send(aws, EmailTags=tags)

    assert len(sent_emails()) == 1


def test_the_local_bucket_is_versioned_and_expires_each_prefix_as_the_template_says(
    aws: AwsEnv,
) -> None:
    """Audio, acta documents and transcript documents each under their own rule."""
    from voxlocal.stack import aws as local_aws

    built = local_aws.create_aws_resources(aws.endpoint, suffix="lifecycle", sender=SENDER)
    s3 = boto3.client("s3", endpoint_url=aws.endpoint, region_name="us-east-1")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=built.bucket)["Rules"]
    by_prefix = {rule["Filter"].get("Prefix", ""): rule for rule in rules if "Expiration" in rule}
    assert {"uploads/", "inbox/", "actas/", "transcripts/"} <= set(by_prefix)
    assert by_prefix["uploads/"]["Expiration"]["Days"] == by_prefix["inbox/"]["Expiration"]["Days"]
    assert any("NoncurrentVersionExpiration" in rule for rule in rules)
    assert s3.get_bucket_versioning(Bucket=built.bucket)["Status"] == "Enabled"
