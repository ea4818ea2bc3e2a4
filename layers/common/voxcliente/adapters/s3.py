"""The audio bucket: S3 events in, object reads and presigned URLs out.

S3's errors are mapped here, at the edge: a flow sees :class:`ObjectGone` (the
object was deleted, or we may not read it) or :class:`TransientError`
(``s3_unavailable``: anything else S3 or the network answered), never botocore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from voxcliente.adapters import aws
from voxcliente.domain.errors import ObjectGone, TransientError
from voxcliente.domain.frozen import Frozen

# S3 errors that mean "the object is gone, or we may not read it". Without
# s3:ListBucket, HEAD on a missing key answers 403, not 404 (S3 API reference,
# HeadObject, "Permissions"); GET answers NoSuchKey / AccessDenied.
_GONE = frozenset({"403", "404", "NoSuchKey", "NotFound", "NoSuchVersion", "AccessDenied"})


class ObjectRef(Frozen):
    """One object an S3 event names (``version_id`` empty in an unversioned bucket)."""

    bucket: str
    key: str
    version_id: str
    size: int | None
    etag: str | None

    def location(self) -> dict[str, str]:
        """The ``Bucket``/``Key``/``VersionId`` parameters of a request for this object."""
        where = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            where["VersionId"] = self.version_id
        return where


class ObjectHead(Frozen):
    size: int
    etag: str
    content_type: str | None
    metadata: dict[str, str]  # user metadata, names lower-cased


def object_refs(event: dict[str, Any]) -> list[ObjectRef]:
    """Every record of an S3 event, keys URL-decoded (spaces arrive as '+')."""
    refs = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        refs.append(
            ObjectRef(
                bucket=str((s3.get("bucket") or {}).get("name")),
                key=unquote_plus(str(obj.get("key", ""))),
                version_id=str(obj.get("versionId") or ""),
                size=obj.get("size"),
                etag=obj.get("eTag"),
            )
        )
    return refs


def _call[T](operation: str, request: Callable[[Any], T]) -> T:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return request(aws.client("s3"))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in _GONE:
            raise ObjectGone(f"S3 {operation} answered {code}: the object is gone.") from exc
        raise TransientError(f"S3 {operation} failed ({code}).", code="s3_unavailable") from exc
    except BotoCoreError as exc:
        raise TransientError(
            f"S3 could not be reached ({exc.__class__.__name__}).", code="s3_unavailable"
        ) from exc


def head(ref: ObjectRef) -> ObjectHead:
    """The object's size, ETag, type and metadata (the event's size and ETag preferred)."""
    answer = _call("head_object", lambda s3: s3.head_object(**ref.location()))
    return ObjectHead(
        size=int(answer.get("ContentLength", ref.size or 0)),
        etag=str(ref.etag or answer.get("ETag") or "").strip('"'),
        content_type=answer.get("ContentType"),
        metadata={k.lower(): v for k, v in (answer.get("Metadata") or {}).items()},
    )


def read(ref: ObjectRef, *, first: int | None = None) -> bytes:
    """The object's bytes, or only its ``first`` ones."""
    request = ref.location() | ({"Range": f"bytes=0-{first - 1}"} if first else {})
    body = _call("get_object", lambda s3: s3.get_object(**request)["Body"])
    return _call("get_object", lambda _s3: bytes(body.read()))


def presigned_get(ref: ObjectRef, *, expires_s: int) -> str:
    """A URL anyone may GET the object with for ``expires_s`` seconds (signed locally)."""
    return _call(
        "presign",
        lambda s3: str(
            s3.generate_presigned_url("get_object", Params=ref.location(), ExpiresIn=expires_s)
        ),
    )


def presigned_post(
    bucket: str,
    key: str,
    *,
    fields: dict[str, str],
    conditions: list[Any],
    expires_s: int,
) -> dict[str, Any]:
    """The URL and form fields a browser POSTs one file with (signed locally).

    One presigned POST stores at most 5 GB (S3 user guide, "Uploading objects").
    """
    return _call(
        "presign",
        lambda s3: dict(
            s3.generate_presigned_post(
                Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_s
            )
        ),
    )
