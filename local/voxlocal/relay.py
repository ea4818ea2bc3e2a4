"""A TCP port in front of a Unix-socket PostgreSQL (the embedded server listens on a socket only).

Used by ``make services`` so that a Lambda container started by ``sam local
invoke`` can reach the local database over TCP.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


class TcpToUnixRelay:
    """Accept TCP connections on ``host:port`` and relay each to ``unix_path``."""

    def __init__(self, unix_path: Path, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.unix_path = unix_path
        self._listener = socket.create_server((host, port), reuse_port=False)
        self.address = self._listener.getsockname()
        self._thread = threading.Thread(target=self._serve, name="pg-relay", daemon=True)

    def start(self) -> TcpToUnixRelay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(str(self.unix_path))
            except OSError:
                client.close()
                upstream.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()
