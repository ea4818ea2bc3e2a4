"""The TCP relay `make services` puts in front of the embedded (Unix-socket) PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from voxlocal.relay import TcpToUnixRelay

pytestmark = pytest.mark.integration


def test_postgres_is_reachable_over_tcp_through_the_relay(pg_server: str) -> None:
    socket_dir = psycopg.conninfo.conninfo_to_dict(pg_server).get("host")
    if not str(socket_dir).startswith("/"):
        pytest.skip("DATABASE_URL names a TCP server: no relay needed")
    relay = TcpToUnixRelay(Path(str(socket_dir)) / ".s.PGSQL.5432", "127.0.0.1", 0).start()
    try:
        host, port = relay.address[:2]
        user = psycopg.conninfo.conninfo_to_dict(pg_server).get("user", "postgres")
        with psycopg.connect(host=host, port=port, user=user, dbname="postgres") as conn:
            row = conn.execute(
                "SELECT inet_server_port() IS NULL AS over_socket, 41 + 1"
            ).fetchone()
        # The server itself still listens on its socket only; the relay carried the bytes.
        assert row == (True, 42)
    finally:
        relay.stop()
