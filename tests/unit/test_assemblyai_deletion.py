"""``DELETE /v2/transcript/{id}``: the emulator driven by the real SDK, and our adapter
against it (404 is done, a transcript still processing or an outage is transient,
a refused key is final)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import assemblyai as aai
import httpx
import pytest

from voxcliente.adapters import assemblyai as adapter
from voxcliente.domain.errors import ProviderError, TransientError
from voxlocal.emulators import AssemblyAIEmulator
from voxlocal.emulators.assemblyai_deletion import DELETED_TEXT, DELETED_URL

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "reunion-textiles-andinos.mp3"


@pytest.fixture
def sdk(assemblyai: AssemblyAIEmulator, monkeypatch: pytest.MonkeyPatch) -> AssemblyAIEmulator:
    """The conftest emulator (our settings point at it), the SDK pointed at it too."""
    monkeypatch.setattr(aai.settings, "base_url", assemblyai.base_url)
    monkeypatch.setattr(aai.settings, "api_key", assemblyai.api_key)
    monkeypatch.setattr(aai.settings, "polling_interval", 0.05)
    return assemblyai


@pytest.fixture
def stalled_audio() -> Iterator[tuple[str, threading.Event]]:
    """A URL whose download hangs until the event is set: a transcript stays processing."""
    release = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(10)
            self.send_response(200)
            self.send_header("content-length", "4")
            self.end_headers()
            self.wfile.write(b"none")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/audio.mp3", release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def completed(emu: AssemblyAIEmulator) -> aai.Transcript:
    """The sample transcribed from a file sent through /v2/upload, as the SDK does it."""
    emu.register_audio(SAMPLE)
    transcript = aai.Transcriber().transcribe(str(SAMPLE))
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    return transcript


def test_sdk_delete_blanks_the_transcript_and_its_upload(sdk: AssemblyAIEmulator) -> None:
    transcript = completed(sdk)
    upload_url = sdk.transcript(str(transcript.id))["audio_url"]
    assert httpx.get(upload_url).status_code == 200

    deleted = aai.Transcript.delete_by_id(str(transcript.id))
    again = aai.Transcript.get_by_id(str(transcript.id))

    # The answer and every later GET: the record kept, its content gone.
    for seen in (deleted, again):
        assert seen.id == str(transcript.id)
        assert seen.status == aai.TranscriptStatus.completed
        assert seen.text == DELETED_TEXT
        assert seen.audio_url == DELETED_URL
        assert not seen.words and not seen.utterances
    assert sdk.transcript(str(transcript.id))["audio_duration"] == transcript.audio_duration
    assert sdk.deletions == [str(transcript.id)]
    # The file uploaded for it went with it.
    assert httpx.get(upload_url).status_code == 404
    # Deleting again answers 200 (the real API does too).
    assert aai.Transcript.delete_by_id(str(transcript.id)).text == DELETED_TEXT
    assert sdk.deletions == [str(transcript.id)]


def test_sdk_delete_of_unknown_id_is_404(sdk: AssemblyAIEmulator) -> None:
    with pytest.raises(aai.types.TranscriptError) as caught:
        aai.Transcript.delete_by_id("no-such-transcript")
    assert "transcript id not found" in str(caught.value)
    assert sdk.deletions == []


def test_adapter_delete_counts_404_as_done_and_refuses_nothing_else_silently(
    sdk: AssemblyAIEmulator,
) -> None:
    transcript = completed(sdk)

    adapter.delete_transcript(str(transcript.id))
    adapter.delete_transcript(str(transcript.id))  # again: 200
    adapter.delete_transcript("never-existed")  # 404: nothing there to delete

    assert sdk.deletions == [str(transcript.id)]
    requests = [r for r in sdk.requests if r.method == "DELETE"]
    assert [r.headers["authorization"] for r in requests] == ["test-assemblyai-key"] * 3


def test_adapter_delete_of_a_transcript_still_processing_is_transient(
    sdk: AssemblyAIEmulator, stalled_audio: tuple[str, threading.Event]
) -> None:
    url, release = stalled_audio
    transcript = aai.Transcriber().submit(url)

    with pytest.raises(TransientError) as caught:
        adapter.delete_transcript(str(transcript.id))
    answer = httpx.delete(
        f"{sdk.base_url}/v2/transcript/{transcript.id}",
        headers={"authorization": sdk.api_key},
    )

    assert caught.value.code == "assemblyai_unavailable"
    assert "HTTP 400" in str(caught.value)
    assert answer.status_code == 400
    assert sdk.deletions == []
    # Once it is final, the same call succeeds.
    release.set()
    sdk.wait(str(transcript.id))
    adapter.delete_transcript(str(transcript.id))
    assert sdk.deletions == [str(transcript.id)]


@pytest.mark.parametrize("outcome, status", [("unavailable", 503), ("server_error", 500)])
def test_adapter_delete_during_an_outage_is_transient(
    sdk: AssemblyAIEmulator, outcome: str, status: int
) -> None:
    transcript = completed(sdk)
    sdk.script_delete(outcome)

    with pytest.raises(TransientError) as caught:
        adapter.delete_transcript(str(transcript.id))

    assert f"HTTP {status}" in str(caught.value)
    assert sdk.deletions == []
    adapter.delete_transcript(str(transcript.id))  # the outage is over
    assert sdk.deletions == [str(transcript.id)]


def test_adapter_delete_with_a_refused_key_is_final(
    sdk: AssemblyAIEmulator, configure: Any
) -> None:
    transcript = completed(sdk)
    configure(ASSEMBLYAI_API_KEY="not-the-key")

    with pytest.raises(ProviderError) as caught:
        adapter.delete_transcript(str(transcript.id))

    assert "HTTP 401" in str(caught.value)
    assert sdk.deletions == []


def test_adapter_delete_when_nothing_listens_is_transient(configure: Any) -> None:
    configure(ASSEMBLYAI_BASE_URL="http://127.0.0.1:9", ASSEMBLYAI_API_KEY="k")
    with pytest.raises(TransientError, match="could not be reached"):
        adapter.delete_transcript("abc")
