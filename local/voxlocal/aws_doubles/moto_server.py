"""moto's threaded server with S3's presigned POST rules in front of it.

:class:`PostPolicyMiddleware` applies :func:`~voxlocal.aws_doubles.post_policy.check_post_policy`
to every form POST a moto server receives, and :class:`StrictMotoServer` is
moto's threaded server with that middleware in front.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from voxlocal.aws_doubles.post_policy import S3Error, check_post_policy, parse_form
from voxlocal.emulators._http import ServingThread

# --------------------------------------------------------------------------- in front of moto

_WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_BUCKET_PATH = re.compile(r"^/([^/]+)/?$")
# A virtual-hosted bucket: ``<bucket>.s3.<region>.amazonaws.com`` or the global
# ``<bucket>.s3.amazonaws.com``, with an optional port (S3 user guide, "Virtual
# hosting of buckets"); the form is then POSTed to ``/``.
_BUCKET_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:\.[a-z0-9-]+)?\.amazonaws\.com(?::\d+)?$",
    re.IGNORECASE,
)


def post_bucket(environ: Mapping[str, Any]) -> str | None:
    """The bucket a request addresses: path-style ``/<bucket>`` on any host, or
    virtual-hosted (``Host: <bucket>.s3.<region>.amazonaws.com``, path ``/``)."""
    path = environ.get("PATH_INFO", "")
    host = _BUCKET_HOST.match(environ.get("HTTP_HOST", ""))
    if host is not None:
        return host.group("bucket").lower() if path in ("", "/") else None
    match = _BUCKET_PATH.match(path)
    return match.group(1) if match else None


class PostPolicyMiddleware:
    """WSGI middleware: every form POST to a bucket (path-style ``/<bucket>``, or
    virtual-hosted ``<bucket>.s3.<region>.amazonaws.com/`` as the HTTPS proxy of the
    production tier relays it) is checked with :func:`check_post_policy` before
    moto sees it."""

    def __init__(
        self,
        app: _WsgiApp,
        credentials: Mapping[str, str],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        bucket = post_bucket(environ)
        content_type = environ.get("CONTENT_TYPE", "")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or bucket is None
            or environ.get("QUERY_STRING")
            or not content_type.lower().startswith("multipart/form-data")
        ):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        try:
            form = parse_form(body, content_type)
            check_post_policy(form, bucket=bucket, credentials=self.credentials, now=self.clock())
        except S3Error as error:
            data = error.to_xml()
            start_response(
                f"{error.status} {_REASONS.get(error.status, 'Error')}",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))],
            )
            return [data]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


_REASONS = {400: "Bad Request", 403: "Forbidden"}


class StrictMotoServer:
    """moto's threaded server (same methods as ``moto.server.ThreadedMotoServer``)
    with :class:`PostPolicyMiddleware` in front; ``credentials`` maps access key
    ids to secret keys."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        ip_address: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.credentials = dict(credentials)
        self._ip_address = ip_address
        self._port = port
        self._serving: ServingThread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = PostPolicyMiddleware(
            DomainDispatcherApplication(create_backend_app), self.credentials
        )
        server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._serving = ServingThread(server, "strict-moto-server")

    def get_host_and_port(self) -> tuple[str, int]:
        if self._serving is None:
            raise RuntimeError("StrictMotoServer: call start() first.")
        return self._serving.address

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()
