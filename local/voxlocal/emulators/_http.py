"""A loopback HTTP server in a background thread, shared by the emulators.

Standard library only: ``ThreadingHTTPServer`` bound to 127.0.0.1 on a port the
kernel picks, one handler that reads the request, records it and hands it to
the emulator's ``_handle``. :class:`ServingThread` is the start and stop every
local double needs around its server (the emulators, the strict moto server,
the HTTPS proxy of the production tests), written once.
"""

from __future__ import annotations

import json
import socketserver
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


class ServingThread:
    """``server.serve_forever()`` in a daemon thread, until :meth:`stop`.

    The short poll interval is how long :meth:`stop` waits for the accept loop
    to notice; stopping also closes the listening socket, so the port is free
    when it returns.
    """

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on (the port the kernel picked for 0)."""
        # An AF_INET server's address: (host, port); Unix sockets are not served here.
        address: Any = self.server.server_address
        return str(address[0]), int(address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class Served(ABC):
    """What a double serving in a :class:`ServingThread` shares: ``with double:``
    starts it and stops it (the emulators here, the HTTPS proxy of the production
    tests). A subclass's :meth:`start` sets ``_serving``."""

    _serving: ServingThread | None = None

    @abstractmethod
    def start(self) -> None:
        """Listen and serve in the background; a second call does nothing."""

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()

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


class LoopbackServer(Served):
    """Base class: ``with Emulator() as emu:`` serves on ``emu.origin`` until the block ends."""

    # Where to listen: loopback on a free port unless told otherwise (``make
    # services`` sets a fixed port, and all interfaces for Docker on Linux).
    bind_host = "127.0.0.1"
    bind_port = 0

    def __init__(self) -> None:
        self._serving: ServingThread | None = None
        self._lock = threading.RLock()

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._serving is not None:
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

        server = ThreadingHTTPServer((self.bind_host, self.bind_port), Handler)
        server.daemon_threads = True
        self._serving = ServingThread(server, f"{type(self).__name__}-server")

    # --- addresses ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use it as a context manager")
        return self._serving.address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what each emulator answers -----------------------------------------

    @abstractmethod
    def _handle(self, request: RecordedRequest) -> Response:
        """Answer one request."""
