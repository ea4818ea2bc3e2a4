"""``make up``: ``python -m voxlocal.up [--port 8000] [--moto-port 5000]``; ``make stop``: ``stop``.

Runs until Ctrl-C (or SIGTERM from ``make stop``), then stops all of it, the
embedded PostgreSQL included. Its process id is kept in ``.local-data/up.pid``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from voxlocal import stack as local
from voxlocal.up.runner import Running, start

PID_FILE = local.ROOT / ".local-data" / "up.pid"


def _banner(running: Running) -> str:
    sample = "samples/reunion-textiles-andinos.mp3"
    return (
        "\nVoxCliente is up on this machine (test doubles unless your keys are set):\n"
        f"  web page      {running.base_url}/   (sign in with any address: local only)\n"
        f"  mailbox       {running.base_url}/mailbox   (every email SES 'sent')\n"
        f"  HTTP API      {running.base_url}/uploads, /me, /meetings, ... (template.yaml)\n"
        f"  S3 (moto)     {running.moto_endpoint}   bucket {running.bucket}\n"
        "Drop a recording in the inbox from another shell, the acta arrives in the mailbox:\n"
        f"  aws s3 cp {sample} s3://{running.bucket}/inbox/you@example.com/ "
        f"--endpoint-url {running.moto_endpoint}\n"
        "(moto takes any credentials, but the CLI wants some: without a profile, put\n"
        " AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 first)\n"
        "Stop with Ctrl-C (or `make stop` from another shell).\n"
    )


def _other_instance() -> int | None:
    """The pid of a ``make up`` still running, from its pid file."""
    try:
        pid = int(PID_FILE.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.parent.joinpath("self").exists():
        try:  # a stale file's number may be another program's by now
            if b"voxlocal.up" not in cmdline.read_bytes():
                return None
        except OSError:
            return None
    return pid if pid != os.getpid() else None


def serve(port: int, moto_port: int) -> int:
    running_pid = _other_instance()
    if running_pid is not None:
        print(
            f"make up: already running (pid {running_pid}). Stop it with `make stop` first.",
            file=sys.stderr,
        )
        return 1
    stopped = threading.Event()
    with contextlib.ExitStack() as stack:
        try:
            running = start(stack, port=port, moto_port=moto_port, stop_database=True)
        except OSError as exc:
            print(
                f"\nmake up: {exc}. Is something else using port {port} or {moto_port}? "
                "Pick others: make up PORT=8123 (moto keeps 5000 for the AWS CLI line; "
                "python -m voxlocal.up --moto-port N changes it).",
                file=sys.stderr,
            )
            return 1
        PID_FILE.parent.mkdir(parents=True, exist_ok=True)
        PID_FILE.write_text(f"{os.getpid()}\n", encoding="utf-8")
        stack.callback(PID_FILE.unlink, missing_ok=True)
        print(_banner(running), flush=True)
        # Ctrl-C and `make stop` (SIGTERM) end the wait; SIGINT handled here also when
        # it was ignored at start (a background job of a non-interactive shell).
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            while not stopped.wait(0.5):
                pass
        print("\nstopping ...", flush=True)
        begun = time.monotonic()
    print(f"stopped ({time.monotonic() - begun:.1f} s): server, workers, moto, PostgreSQL.")
    return 0


def stop(timeout_s: float = 20.0) -> int:
    """``make stop``: a ``make up`` still running, then an embedded PostgreSQL left running."""
    pid = _other_instance()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        print(f"stopped make up (pid {pid})")
    PID_FILE.unlink(missing_ok=True)
    if local.stop_embedded_server():
        print(f"stopped the embedded PostgreSQL ({_rel(local.EMBEDDED_DATA_DIR)})")
    elif pid is None:
        print("nothing to stop")
    return 0


def _rel(path: Path) -> str:
    return str(path.relative_to(local.ROOT)) if path.is_relative_to(local.ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make up", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["serve", "stop"], default="serve")
    parser.add_argument("--port", type=int, default=8000, help="the web page and the API")
    parser.add_argument("--moto-port", type=int, default=5000, help="moto's S3, SQS, SES")
    args = parser.parse_args(argv)
    if args.command == "stop":
        return stop()
    try:
        return serve(args.port, args.moto_port)
    except local.StackError as exc:
        print(f"\nmake up: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while starting: what had started is stopped
        print("\nstopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
