"""``make erase MEETING=<id>`` or ``make erase EMAIL=<address>``: erase as an operator.

The same code as ``DELETE /meetings/{id}`` and ``DELETE /me``
(:mod:`voxcliente.pipeline.erasure`), recorded as requested by ``operator``.
Configured from the environment as the functions are: ``DATABASE_URL`` (or
``DB_SECRET_ID`` with ``DB_HOST``; with neither, the local server ``make demo``
uses), ``AUDIO_BUCKET`` and AWS credentials, ``ASSEMBLYAI_API_KEY`` (or
``ASSEMBLYAI_SECRET_ID``).

Exit status: 0 erased everywhere; 3 erased in the database, copies outside it
still pending (the reconciler finishes them on its next runs); 2 no such
meeting or address; 1 the database or the configuration failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

from voxcliente.domain.errors import NotFound, VoxError

ROOT = Path(__file__).resolve().parents[2]

ERASED = 0
PENDING = 3
UNKNOWN = 2
FAILED = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="erase", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--meeting", type=UUID, help="the meeting's id")
    which.add_argument("--email", help="the person's address: their account and every meeting")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DATABASE_URL") and not os.environ.get("DB_SECRET_ID"):
            stack.enter_context(_local_database())
        try:
            return _erase(args.meeting, args.email)
        except VoxError as exc:
            print(f"erase: {exc}", file=sys.stderr)
            return FAILED
    return FAILED  # pragma: no cover - the block returns


def _erase(meeting_id: UUID | None, email: str | None) -> int:
    from voxcliente.adapters.db import transaction
    from voxcliente.adapters.repository import erasures as sql
    from voxcliente.pipeline import erasure

    try:
        if meeting_id is not None:
            what = f"meeting {meeting_id}"
            outcome = erasure.erase_meeting(meeting_id, requested_by="operator")
        else:
            address = str(email).strip()
            with transaction() as tx:
                user_id = sql.user_id_by_email(tx, address)
            if user_id is None:
                # No account, but trial codes or an upload whose file never came may
                # still name the address.
                forgotten = erasure.erase_address(address)
                if not forgotten:
                    print(f"erase: nothing names the address {address}", file=sys.stderr)
                    return UNKNOWN
                print(
                    f"erase: no account has the address {address}; {forgotten} row(s) of "
                    "trial codes, their emails or uploads never completed were erased"
                )
                return ERASED
            outcome = erasure.erase_user(user_id, requested_by="operator")
            what = f"the account of {address} and its {outcome.meetings} meeting(s)"
    except NotFound as exc:
        print(f"erase: {exc}", file=sys.stderr)
        return UNKNOWN
    print(
        f"erase: {what} erased in the database: address, file name, transcript, acta, "
        "email and timeline details (costs and usage lines kept, without a person)"
    )
    if not outcome.pending:
        print("erase: nothing left outside the database (S3 objects, AssemblyAI transcript)")
        return ERASED
    print(
        f"erase: still pending outside the database: {', '.join(outcome.pending)}. "
        "The reconciler retries it on each run until done; run this again to retry now."
    )
    return PENDING


@contextlib.contextmanager
def _local_database() -> Iterator[None]:
    """The local server ``make demo`` keeps in .local-data/postgres, named by
    ``DATABASE_URL`` for this run."""
    from voxcliente.settings import reset_settings
    from voxlocal import postgres

    data_dir = ROOT / ".local-data" / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with postgres.server_url(data_dir, stop_after=True) as server:
        os.environ["DATABASE_URL"] = postgres.ensure_database(server, "voxcliente")
        reset_settings()
        try:
            yield
        finally:
            os.environ.pop("DATABASE_URL", None)
            reset_settings()


if __name__ == "__main__":
    raise SystemExit(main())
