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


def _call_write[T](operation: str, request: Callable[[Any], T]) -> T:
    """A write: whatever S3 answers is worth retrying (a refused write is a missing
    permission or a bucket policy, never a gone object), as ``s3_unavailable``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return request(aws.client("s3"))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        raise TransientError(f"S3 {operation} failed ({code}).", code="s3_unavailable") from exc
    except BotoCoreError as exc:
        raise TransientError(
            f"S3 could not be reached ({exc.__class__.__name__}).", code="s3_unavailable"
        ) from exc


def put(
    bucket: str,
    key: str,
    body: bytes,
    *,
    content_type: str,
    content_disposition: str | None = None,
) -> None:
    """Store ``body`` at ``key``, encrypted at rest (SSE-S3, AES256). The request names
    the encryption itself, so the object is encrypted whatever the bucket's default
    (S3 API reference, PutObject, ServerSideEncryption). A second put of the same key
    replaces the object."""
    request: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "Body": body,
        "ContentType": content_type,
        "ServerSideEncryption": "AES256",
    }
    if content_disposition:
        request["ContentDisposition"] = content_disposition
    _call_write("put_object", lambda s3: s3.put_object(**request))


def delete(bucket: str, key: str) -> None:
    """Delete ``key`` for good: every version of it and every delete marker (in a
    versioned bucket a plain DELETE only hides the object behind a marker). A key
    that is already gone is success."""

    def versions(s3: Any) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if item["Key"] == key:  # the prefix also matches longer keys
                    found.append({"Key": key, "VersionId": item["VersionId"]})
        return found

    listed = _call_write("list_object_versions", versions)
    if not listed:
        return
    # At most 1000 per request (S3 API reference, DeleteObjects).
    for start in range(0, len(listed), 1000):
        batch = listed[start : start + 1000]

        def remove(s3: Any, batch: list[dict[str, str]] = batch) -> dict[str, Any]:
            return dict(s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}))

        answer = _call_write("delete_objects", remove)
        errors = [e for e in answer.get("Errors", []) if e.get("Code") != "NoSuchVersion"]
        if errors:
            raise TransientError(
                f"S3 delete_objects failed ({errors[0].get('Code')}).", code="s3_unavailable"
            )
