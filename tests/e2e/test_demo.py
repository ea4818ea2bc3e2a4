"""``make demo`` end to end: the runner in its own process, as a person runs it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import psycopg
import pytest

from voxlocal import postgres
from voxlocal.https_proxy import HttpsProxy

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_demo(
    pg_server: str,
    out: Path,
    *args: str,
    fresh: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ASSEMBLYAI_", "OPENAI_", "POWERTOOLS_", "DATABASE_URL"))
    }
    env.update(extra_env or {})
    env["DATABASE_URL"] = (
        postgres.recreate_database(pg_server, "voxcliente_demo_test")
        if fresh
        else postgres.database_url(pg_server, "voxcliente_demo_test")
    )
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT / "local")])
    return subprocess.run(  # noqa: S603 - our own runner
        [sys.executable, "-m", "voxlocal.demo", "--out", str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def only_meeting(out: Path) -> Path:
    [meeting_dir] = [p for p in out.iterdir() if p.is_dir()]
    return meeting_dir


def test_the_demo_turns_the_sample_into_an_acta_email(pg_server: str, tmp_path: Path) -> None:
    import docx

    # When a newcomer runs the demo on the shipped sample
    result = run_demo(pg_server, tmp_path)
    # Then it succeeds, names the emulators and prints a line per stage
    assert result.returncode == 0, result.stderr[-3000:]
    assert "EMULATOR" in result.stdout
    for stage in ("Submit", "Webhook", "Acta worker", "EmailEvents"):
        assert stage in result.stdout
    assert "Acta:" in result.stdout
    # and out/<meeting id>/ holds the email as SES received it, with both attachments
    meeting_dir = only_meeting(tmp_path)
    names = {p.name for p in meeting_dir.iterdir()}
    assert {"message.eml", "acta.html", "acta.docx", "transcript.txt", "meeting.json"} <= names
    message = message_from_bytes((meeting_dir / "message.eml").read_bytes())
    attached = [name for part in message.walk() if (name := part.get_filename())]
    assert any(n.endswith(".docx") for n in attached) and any(n.endswith(".txt") for n in attached)
    document = docx.Document(io.BytesIO((meeting_dir / "acta.docx").read_bytes()))
    headings = [
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith("Heading")
    ]
    assert "Acuerdos" in headings and "Asistentes" in headings
    # and meeting.json shows every stage, the cost and the Spanish acta
    meeting = json.loads((meeting_dir / "meeting.json").read_text(encoding="utf-8"))
    stages = [e["to_status"] for e in meeting["timeline"]]
    for status in ("received", "submitted", "transcribed", "generating", "emailed"):
        assert status in stages
    assert meeting["meeting"]["status"] == "emailed"
    assert float(meeting["total_cost_usd"]) > 0
    assert {u["provider"] for u in meeting["usage"]} == {"assemblyai", "openai", "ses"}
    # the acta is the sample's hand-written golden acta, answered by the emulator at no cost
    golden = json.loads(
        (ROOT / "samples" / "reunion-textiles-andinos.acta.json").read_text(encoding="utf-8")
    )
    acta = meeting["acta"]["content"]
    assert meeting["acta"]["model"] == "emulator"
    assert acta["title"] == golden["acta"]["title"]
    assert acta["decisions"] == ["Se acuerda entregar cada quince días a partir del 3 de marzo."]
    assert meeting["acta"]["language"] == acta["language"] == "es"
    openai_usage = [u for u in meeting["usage"] if u["provider"] == "openai"]
    assert {u["item"] for u in openai_usage} == {"emulator"}
    assert all(float(u["cost_usd"]) == 0 for u in openai_usage)


def test_a_file_that_is_not_audio_ends_with_a_failure_notice(
    pg_server: str, tmp_path: Path
) -> None:
    fake = tmp_path / "input" / "reunion.mp3"
    fake.parent.mkdir()
    fake.write_text("Esto es un documento de texto, no una grabación.\n" * 40, encoding="utf-8")
    out = tmp_path / "out"
    result = run_demo(pg_server, out, "--audio", str(fake), "--email", "luis@example.com")
    assert result.returncode == 0, result.stderr[-3000:]
    meeting_dir = only_meeting(out)
    meeting = json.loads((meeting_dir / "meeting.json").read_text(encoding="utf-8"))
    assert meeting["meeting"]["status"] == "failed"
    assert meeting["meeting"]["error_code"] == "not_audio"
    assert meeting["meeting"]["error_message"]
    assert [d["kind"] for d in meeting["email_deliveries"]] == ["failure"]
    message = message_from_bytes((meeting_dir / "message.eml").read_bytes())
    assert message["To"] == "luis@example.com"
    assert not (meeting_dir / "acta.docx").exists()
    assert "not_audio" in result.stdout


def test_a_missing_audio_file_is_a_clear_error(pg_server: str, tmp_path: Path) -> None:
    result = run_demo(pg_server, tmp_path, "--audio", str(tmp_path / "nope.mp3"))
    assert result.returncode == 2
    assert "No such audio file" in result.stderr


def test_running_the_demo_again_makes_a_new_meeting(pg_server: str, tmp_path: Path) -> None:
    # The database outlives a run (as the embedded one in .local-data does).
    first = run_demo(pg_server, tmp_path)
    second = run_demo(pg_server, tmp_path, fresh=False)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-3000:]
    meetings = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(meetings) == 2
    assert all((m / "message.eml").is_file() for m in meetings)


@pytest.mark.parametrize(
    ("key", "host", "says", "status"),
    [
        ("OPENAI_API_KEY", "api.openai.com:443", "OpenAI (api.openai.com) could not", "generating"),
        ("ASSEMBLYAI_API_KEY", "api.assemblyai.com:443", "AssemblyAI could not", "received"),
    ],
)
def test_a_real_key_without_network_tries_the_real_host_and_stops_cleanly(
    key: str, host: str, says: str, status: str, pg_server: str, tmp_path: Path
) -> None:
    """With a fake key, an empty OPENAI_BASE_URL in the environment and a proxy that
    refuses everything, the demo tries the provider's public host, then says in one
    line which service could not be reached; the meeting stays in a resumable state."""
    with HttpsProxy([]) as proxy:  # no route: every CONNECT is recorded and refused
        result = run_demo(
            pg_server,
            tmp_path,
            extra_env={key: "fake-key", "OPENAI_BASE_URL": "", "HTTPS_PROXY": proxy.url},
        )
    assert result.returncode == 2
    assert host in proxy.connects
    assert set(proxy.connects) == {host}
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("make demo:")]
    assert says in line
    with psycopg.connect(postgres.database_url(pg_server, "voxcliente_demo_test")) as conn:
        row = conn.execute("SELECT status, submit_claimed_at FROM meetings").fetchone()
    assert row is not None and row[0] == status
    if status == "received":
        assert row[1] is None  # the claim was released: a retry submits it


def test_no_log_line_of_a_full_run_names_the_address_or_the_transcript(
    pg_server: str, tmp_path: Path
) -> None:
    """Every function's log line of the whole sample (DEBUG included) is free of the
    recipient's address and of the transcript's words: logs name meetings by id."""
    from voxlocal.demo import DEFAULT_AUDIO, DEFAULT_EMAIL

    result = run_demo(pg_server, tmp_path, extra_env={"POWERTOOLS_LOG_LEVEL": "DEBUG"})
    assert result.returncode == 0, result.stderr[-3000:]
    log = (tmp_path / "functions.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    messages = {line["message"] for line in lines}  # every stage logged
    assert {"submitted to AssemblyAI", "webhook handled", "SES event recorded"} <= messages
    sidecar = json.loads(Path(f"{DEFAULT_AUDIO}.transcript.json").read_text(encoding="utf-8"))
    sentences = [u["text"] for u in sidecar["utterances"] if len(u["text"]) > 20]
    assert sentences
    lowered = log.lower()
    assert DEFAULT_EMAIL.lower() not in lowered
    assert DEFAULT_EMAIL.split("@")[0].lower() not in lowered
    for sentence in sentences:
        assert sentence.lower() not in lowered, sentence
