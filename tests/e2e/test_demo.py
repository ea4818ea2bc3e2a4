"""``make demo`` end to end: the runner in its own process, as a person runs it."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from email import message_from_bytes
from pathlib import Path
from typing import Any

import psycopg
import pytest

from voxlocal import postgres
from voxlocal.https_proxy import HttpsProxy

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def demo_env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without keys, AWS settings or a database, plus ``extra_env``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ASSEMBLYAI_", "OPENAI_", "POWERTOOLS_", "DATABASE_URL"))
    }
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT / "local")])
    return env


def run_demo(
    pg_server: str,
    out: Path,
    *args: str,
    fresh: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = demo_env(extra_env)
    env["DATABASE_URL"] = (
        postgres.recreate_database(pg_server, "voxcliente_demo_test")
        if fresh
        else postgres.database_url(pg_server, "voxcliente_demo_test")
    )
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


def a_recording_without_transcript(tmp_path: Path) -> Path:
    """The sample's audio under another name: real audio, no sidecar beside it."""
    audio = tmp_path / "input" / "mi-reunion.mp3"
    audio.parent.mkdir()
    shutil.copyfile(ROOT / "samples" / "reunion-textiles-andinos.mp3", audio)
    return audio


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
_COST = re.compile(r"^\d+\.\d{6}$")
_PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_EXPONENT = re.compile(r"^-?\d+(\.\d+)?[eE][-+]?\d+$")


def check_formats(value: Any, key: str = "", seen: dict[str, int] | None = None) -> dict[str, int]:
    """Every time in ``value`` is ISO-8601 UTC with a Z, every cost six plain places,
    every other decimal plain; counts what was checked."""
    seen = {"times": 0, "costs": 0, "decimals": 0} if seen is None else seen
    if isinstance(value, dict):
        for k, v in value.items():
            check_formats(v, k, seen)
    elif isinstance(value, list):
        for v in value:
            check_formats(v, key, seen)
    elif isinstance(value, str) and _EXPONENT.match(value):
        raise AssertionError(f"{key}: {value} has an exponent")
    elif isinstance(value, str) and _LOOKS_LIKE_TIME.match(value):
        assert _TIME.match(value), (key, value)
        seen["times"] += 1
    elif key.endswith("cost_usd") and value is not None:
        assert isinstance(value, str) and _COST.match(value), (key, value)
        seen["costs"] += 1
    elif key in ("quantity", "unit_price_usd", "audio_duration_s") and value is not None:
        assert isinstance(value, str) and _PLAIN_DECIMAL.match(value), (key, value)
        seen["decimals"] += 1
    return seen


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
    # written one way each: times in UTC with a Z (nested ones too), plain decimals
    floats: list[str] = []  # every number with a fraction, as written
    json.loads(
        (meeting_dir / "meeting.json").read_text(encoding="utf-8"), parse_float=floats.append
    )
    assert not [f for f in floats if "e" in f.lower()]
    seen = check_formats(meeting)
    assert seen["times"] >= len(meeting["timeline"]) + len(meeting["usage"]) + 3
    assert seen["costs"] >= len(meeting["usage"]) + 2
    assert seen["decimals"] >= 2 * len(meeting["usage"])
    assert all(_TIME.match(e["created_at"]) for e in meeting["timeline"])
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
    notes = tmp_path / "input" / "notes.txt"
    notes.write_text("Luis: Hola.\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_demo(
        pg_server,
        out,
        *("--audio", str(fake), "--transcript", str(notes), "--email", "luis@example.com"),
    )
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
    # the notice is named as what it is
    assert not (meeting_dir / "acta.html").exists()
    notice = (meeting_dir / "notice.html").read_text(encoding="utf-8")
    assert "<html" in notice.lower()
    assert "not_audio" in result.stdout


def test_a_recording_without_key_or_transcript_stops_before_uploading(
    pg_server: str, tmp_path: Path
) -> None:
    audio = a_recording_without_transcript(tmp_path)
    out = tmp_path / "out"
    result = run_demo(pg_server, out, "--audio", str(audio))
    # it stops with the two ways on, each with its command
    assert result.returncode == 2
    assert "Nothing was uploaded" in result.stderr
    assert "ASSEMBLYAI_API_KEY=<your key> make demo AUDIO=" in result.stderr
    assert "TRANSCRIPT=notes.txt" in result.stderr
    assert "TRANSCRIPT=transcript.json" in result.stderr
    # before the database, moto or any function: no stage ran, no meeting exists
    assert "S3 put" not in result.stdout and "PostgreSQL" not in result.stdout
    assert not out.exists()
    with psycopg.connect(postgres.database_url(pg_server, "voxcliente_demo_test")) as conn:
        row = conn.execute("SELECT to_regclass('meetings')").fetchone()
    assert row == (None,)  # not even migrated


def test_a_plain_text_transcript_becomes_the_speakers_of_the_acta(
    pg_server: str, tmp_path: Path
) -> None:
    audio = a_recording_without_transcript(tmp_path)
    notes = tmp_path / "input" / "notes.txt"
    notes.write_text(
        "Laura Méndez: Buenos días, revisamos el plan de entregas de marzo.\n"
        "Pedro Soto: Podemos entregar cada quince días.\n"
        "A partir del tres de marzo.\n"
        "Laura Méndez: De acuerdo, así lo hacemos.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_demo(pg_server, out, "--audio", str(audio), "--transcript", str(notes))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "answering with notes.txt" in result.stdout
    meeting_dir = only_meeting(out)
    meeting = json.loads((meeting_dir / "meeting.json").read_text(encoding="utf-8"))
    assert meeting["meeting"]["status"] == "emailed"
    assert [d["kind"] for d in meeting["email_deliveries"]] == ["acta"]
    assert meeting["acta"]["language"] == "es"
    assert (meeting_dir / "acta.html").is_file() and (meeting_dir / "acta.docx").is_file()
    # each "Name:" line is a turn of that speaker; the unnamed line continues Pedro's
    lines = (meeting_dir / "transcript.txt").read_text(encoding="utf-8").splitlines()
    turns = [line for line in lines if line.startswith("[")]
    assert len(turns) == 3
    assert "Laura Méndez" in turns[0] and "Laura Méndez" in turns[2]
    assert "Pedro Soto" in turns[1] and turns[1].endswith("A partir del tres de marzo.")


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""  # ended meanwhile, or not ours to read


def test_the_embedded_postgresql_is_stopped_when_the_demo_ends(tmp_path: Path) -> None:
    """Without DATABASE_URL the demo starts the embedded server (here in a directory
    of this test's) and stops it on the way out: no postmaster left behind."""
    # A directory the server's own user can reach (pgserver runs it as one under root).
    base = Path(tempfile.mkdtemp(prefix="voxdemo-"))
    try:
        base.chmod(0o755)
        data_dir = base / "pg"
        data_dir.mkdir()
        code = (
            "import sys; from pathlib import Path; import voxlocal.stack.database as d; "
            f"d.EMBEDDED_DATA_DIR = Path({str(data_dir)!r}); import voxlocal.stack as s; "
            "s.EMBEDDED_DATA_DIR = d.EMBEDDED_DATA_DIR; from voxlocal.demo import main; "
            f"sys.exit(main(['--out', {str(tmp_path / 'out')!r}]))"
        )
        result = subprocess.run(  # noqa: S603 - our own runner
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=demo_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "embedded server" in result.stdout
        assert (data_dir / "PG_VERSION").is_file()  # it did run there
        assert not (data_dir / "postmaster.pid").exists()  # and was shut down cleanly
        assert (
            not [  # no process still serves that directory
                proc.name
                for proc in Path("/proc").glob("[0-9]*")
                if str(data_dir) in _cmdline(proc)
            ]
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


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
