"""A loopback HTTP server in a background thread, shared by the emulators.

Standard library only: ``ThreadingHTTPServer`` bound to 127.0.0.1 on a port the
kernel picks, one handler that reads the request, records it and hands it to
the emulator's ``_handle``.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class RecordedRequest:
    """One request an emulator received, as the test wants to look at it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any | None  # the decoded JSON body, or None when absent or not JSON
    body: bytes = field(default=b"", repr=False)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json_body(
        cls, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> Response:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        all_headers = {"content-type": "application/json; charset=utf-8"}
        all_headers.update(headers or {})
        return cls(status, data, all_headers)


class LoopbackServer(ABC):
    """Base class: ``with Emulator() as emu:`` serves on ``emu.origin`` until the block ends."""

    # Where to listen: loopback on a free port unless told otherwise (``make
    # services`` sets a fixed port, and all interfaces for Docker on Linux).
    bind_host = "127.0.0.1"
    bind_port = 0

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so stopping never waits on idle keep-alives.
            protocol_version = "HTTP/1.0"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    decoded: Any | None = json.loads(body) if body else None
                except ValueError:
                    decoded = None
                request = RecordedRequest(self.command, self.path, headers, decoded, body)
                try:
                    response = emulator._handle(request)
                except Exception as exc:  # a bug in the emulator: say so, as a 500
                    response = Response.json_body(500, {"error": f"emulator failure: {exc!r}"})
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(response.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(response.body)
                except OSError:  # the client gave up (timeout): nothing to answer to
                    return

            do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((self.bind_host, self.bind_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the accept loop
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what each emulator answers -----------------------------------------

    @abstractmethod
    def _handle(self, request: RecordedRequest) -> Response:
        """Answer one request."""
