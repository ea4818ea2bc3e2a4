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

from voxlocal import demo

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "events" / "env.local.json"
PORTS = {"postgres": 5432, "moto": 5000, "assemblyai": 8081, "openai": 8082}


def _secrets(endpoint: str, values: dict[str, str]) -> None:
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=demo.REGION)
    for name, value in values.items():
        client.create_secret(Name=name, SecretString=value)


def serve(bind: str) -> int:
    import psycopg
    from moto.server import ThreadedMotoServer

    from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator
    from voxlocal.emulators.openai_server import OpenAIEmulator
    from voxlocal.relay import TcpToUnixRelay

    local = json.loads(ENV_FILE.read_text(encoding="utf-8"))["Parameters"]
    progress = demo.Progress()
    demo.quiet_lambda_environment({})
    with contextlib.ExitStack() as stack:
        database_url = demo.start_database(stack, progress)
        socket_dir = psycopg.conninfo.conninfo_to_dict(database_url).get("host", "")
        if str(socket_dir).startswith("/"):
            relay = TcpToUnixRelay(Path(str(socket_dir)) / ".s.PGSQL.5432", bind, PORTS["postgres"])
            stack.callback(relay.start().stop)
            progress.note(f"PostgreSQL relayed on {bind}:{PORTS['postgres']} (TCP -> Unix socket)")

        with progress.stage(f"moto on {bind}:{PORTS['moto']}"):
            import logging

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
            moto = ThreadedMotoServer(ip_address=bind, port=PORTS["moto"], verbose=False)
            moto.start()
            stack.callback(moto.stop)
            endpoint = f"http://127.0.0.1:{PORTS['moto']}"
            resources = demo.aws_resources(endpoint)
            _secrets(
                endpoint,
                {
                    local["DB_SECRET_ID"]: json.dumps({"username": "postgres", "password": ""}),
                    local["ASSEMBLYAI_SECRET_ID"]: "local-assemblyai-key",
                    local["OPENAI_SECRET_ID"]: "local-openai-key",
                    local["WEBHOOK_SECRET_ID"]: "local-webhook-secret-not-for-production",
                },
            )
        progress.note(f"bucket {resources['bucket']}, queue {resources['queue_url']}")

        with progress.stage(f"emulators: AssemblyAI {bind}:8081, OpenAI {bind}:8082"):
            assemblyai = AssemblyAIEmulator(api_key="local-assemblyai-key")
            assemblyai.bind_host, assemblyai.bind_port = bind, PORTS["assemblyai"]
            stack.enter_context(assemblyai)
            for audio in sorted((ROOT / "samples").glob("*.mp3")):
                if Path(f"{audio}.transcript.json").is_file():
                    assemblyai.register_audio(audio)
            openai = OpenAIEmulator(api_key="local-openai-key")
            openai.bind_host, openai.bind_port = bind, PORTS["openai"]
            stack.enter_context(openai)

        print(
            "\nLocal services are up (test doubles for AssemblyAI and OpenAI). In another shell:\n"
            "  make invoke FN=upload_api EVENT=events/api-post-uploads.json\n"
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
