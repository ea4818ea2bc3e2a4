"""The embedded PostgreSQL that `make migrate`, `make erase` and `make bench` start is
stopped when they end; one another run started (`make up`'s) is left running."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from voxlocal import postgres

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Not under pytest's tmp_path: the server may run as another user, who must reach it.
    path = Path(tempfile.mkdtemp(prefix="voxpg-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _alive(data_dir: Path) -> bool:
    try:
        pid = int((data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def test_a_server_this_run_started_is_stopped_at_its_end(data_dir: Path) -> None:
    with postgres.server_url(data_dir, stop_after=True) as url:
        assert _alive(data_dir)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not _alive(data_dir)
    assert (data_dir / "PG_VERSION").exists()  # the data stays for the next run


def test_a_server_another_run_started_is_left_running(data_dir: Path) -> None:
    with postgres.server_url(data_dir) as first:  # e.g. make up's, kept running
        assert _alive(data_dir)
        with postgres.server_url(data_dir, stop_after=True) as second:
            assert second == first
        assert _alive(data_dir)
    from voxlocal.stack.database import stop_embedded_server

    assert stop_embedded_server(data_dir)
    assert not _alive(data_dir)
