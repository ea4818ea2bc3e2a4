"""``make services``: the local services ``sam local invoke`` talks to, until Ctrl-C.

    python -m voxlocal.services [--bind 127.0.0.1]

Starts what ``events/env.local.json`` points at (through ``host.docker.internal``):

* PostgreSQL on port 5432 (``DATABASE_URL``'s server, or the embedded one
  behind a TCP relay, since it listens on a Unix socket only), migrated;
* moto's server on port 5000: the bucket, the acta queue, the sender identity,
  and the Secrets Manager secrets the functions read (database, AssemblyAI,
  OpenAI, webhook), as in AWS;
* the AssemblyAI emulator on 8081 (knowing the audio in ``samples/``) and the
  OpenAI emulator on 8082.

Docker Desktop reaches services bound to 127.0.0.1; on Linux the container
reaches the host through the Docker bridge, so use ``--bind 0.0.0.0`` (the
database then accepts connections from your network without a password: do
it on a trusted machine only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from voxlocal import stack as local

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "events" / "env.local.json"
PORTS = {"postgres": 5432, "moto": 5000, "assemblyai": 8081, "openai": 8082}


def _secrets(endpoint: str, values: dict[str, str]) -> None:
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=local.REGION)
    for name, value in values.items():
        client.create_secret(Name=name, SecretString=value)


def serve(bind: str) -> int:
    import psycopg

    from voxlocal.relay import TcpToUnixRelay

    settings = json.loads(ENV_FILE.read_text(encoding="utf-8"))["Parameters"]
    progress = local.Progress()
    local.quiet_lambda_environment({})
    with contextlib.ExitStack() as stack:
        database_url = local.start_database(stack, progress)
        socket_dir = psycopg.conninfo.conninfo_to_dict(database_url).get("host", "")
        if str(socket_dir).startswith("/"):
            relay = TcpToUnixRelay(Path(str(socket_dir)) / ".s.PGSQL.5432", bind, PORTS["postgres"])
            stack.callback(relay.start().stop)
            progress.note(f"PostgreSQL relayed on {bind}:{PORTS['postgres']} (TCP -> Unix socket)")

        with progress.stage(f"moto on {bind}:{PORTS['moto']}"):
            # moto's own server: the functions in sam local sign with whatever
            # credentials they find, which the strict one could not know.
            endpoint = local.start_moto(stack, None, bind=bind, port=PORTS["moto"])
            resources = local.create_aws_resources(endpoint, versioned=True, visibility_timeout_s=5)
            _secrets(
                endpoint,
                {
                    settings["DB_SECRET_ID"]: json.dumps({"username": "postgres", "password": ""}),
                    settings["ASSEMBLYAI_SECRET_ID"]: local.ASSEMBLYAI_KEY,
                    settings["OPENAI_SECRET_ID"]: local.OPENAI_KEY,
                    settings["WEBHOOK_SECRET_ID"]: "local-webhook-secret-not-for-production",
                },
            )
        progress.note(f"bucket {resources.bucket}, queue {resources.queue_url}")

        with progress.stage(f"emulators: AssemblyAI {bind}:8081, OpenAI {bind}:8082"):
            samples = sorted((ROOT / "samples").glob("*.mp3"))
            known = [a for a in samples if Path(f"{a}.transcript.json").is_file()]
            local.start_assemblyai(stack, bind=bind, port=PORTS["assemblyai"], audio=known)
            local.start_openai(stack, bind=bind, port=PORTS["openai"])

        print(
            "\nLocal services are up (test doubles for AssemblyAI and OpenAI). In another shell:\n"
            "  make invoke FN=upload_api EVENT=events/api-post-uploads.json\n"
            "These are the services alone: nothing here runs a function when an object\n"
            "lands in the bucket or serves the HTTP API. For the whole system (the API,\n"
            "S3 events, the queue, the web page, a mailbox) run `make up` instead.\n"
            "Stop with Ctrl-C.",
            flush=True,
        )
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make services", description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)
    try:
        return serve(args.bind)
    except OSError as exc:
        print(f"make services: {exc} (is another copy already running?)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
