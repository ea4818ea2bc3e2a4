"""The AssemblyAI and OpenAI emulators, driven by the real SDKs over loopback HTTP.

The audio AssemblyAI fetches is served by a moto S3 server through a presigned
URL, as in the pipeline.
"""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import assemblyai as aai
import boto3
import httpx
import openai
import pytest
from pydantic import BaseModel, ConfigDict

from voxlocal.emulators import AssemblyAIEmulator, OpenAIEmulator, minimal_instance
from voxlocal.emulators import assemblyai_schema as schema

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "reunion-textiles-andinos.mp3"
SAMPLE_EN = ROOT / "samples" / "client-call-en.mp3"
BUCKET = "voxcliente-emulator-tests"


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture
def put_audio(moto_endpoint: str) -> Any:
    """Store bytes in (moto) S3 and return a presigned GET URL for them."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str, data: bytes | None) -> str:
        if data is not None:
            s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        url: str = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600
        )
        return url

    return put


@pytest.fixture
def assemblyai_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AssemblyAIEmulator]:
    with AssemblyAIEmulator() as emu:
        monkeypatch.setattr(aai.settings, "base_url", emu.base_url)
        monkeypatch.setattr(aai.settings, "api_key", emu.api_key)
        monkeypatch.setattr(aai.settings, "polling_interval", 0.05)
        yield emu


@pytest.fixture
def openai_emulator() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator() as emu:
        yield emu


def client_for(emu: OpenAIEmulator, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key, **options)


# --- AssemblyAI -----------------------------------------------------------------------


def test_sample_is_transcribed_through_the_sdk(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    # Given the shipped sample registered and stored in S3
    assemblyai_emulator.register_audio(SAMPLE)
    url = put_audio("inbox/ana@example.com/reunion.mp3", SAMPLE.read_bytes())
    expected = json.loads(
        SAMPLE.with_name(SAMPLE.name + ".transcript.json").read_text(encoding="utf-8")
    )
    config = aai.TranscriptionConfig(
        speaker_labels=True, language_code="es", speech_models=["universal-3-5-pro", "universal-2"]
    ).set_webhook("https://hooks.example.com/assemblyai", "X-Vox-Secret", "s3cr3t")

    # When the SDK submits it and then fetches it by id
    submitted = aai.Transcriber().submit(url, config)
    assert submitted.id is not None and submitted.json_response is not None
    fetched = aai.Transcript.get_by_id(submitted.id)

    # Then the submission answered "queued", echoing the config but not the secret
    assert submitted.status == aai.TranscriptStatus.queued
    assert submitted.json_response["webhook_auth_header_name"] == "X-Vox-Secret"
    assert submitted.json_response["webhook_auth"] is True
    assert submitted.json_response.get("webhook_auth_header_value") is None
    assert "webhook_auth_header_value" not in assemblyai_emulator.transcript(submitted.id)
    assert assemblyai_emulator.submissions[0]["webhook_auth_header_value"] == "s3cr3t"
    assert assemblyai_emulator.requests[0].headers["authorization"] == "test-assemblyai-key"
    # ...and the transcript is the sample's, with speakers
    assert fetched.status == aai.TranscriptStatus.completed
    assert fetched.json_response is not None
    assert fetched.text == expected["text"]
    assert fetched.json_response["language_code"] == "es"
    assert fetched.json_response["audio_duration"] == expected["audio_duration"]
    assert fetched.json_response["speech_model_used"] == "universal-3-5-pro"
    assert [u.speaker for u in fetched.utterances or []][:2] == ["A", "B"]
    assert fetched.words is not None and fetched.words[0].text == "Buenos"


def test_bytes_that_are_not_registered_end_in_error(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    url = put_audio("inbox/ana@example.com/notes.txt", b"just some notes, not audio")

    transcript = aai.Transcriber().submit(url)
    assert transcript.id is not None
    final = assemblyai_emulator.wait(transcript.id)
    fetched = aai.Transcript.get_by_id(transcript.id)

    assert final["status"] == "error"
    assert fetched.status == aai.TranscriptStatus.error
    assert fetched.error is not None
    assert fetched.error.startswith("Transcoding failed. File does not appear to contain audio.")


def test_a_real_recording_it_has_no_transcript_for_says_what_to_do(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    """The emulator cannot recognise speech: an unregistered recording is not called
    "not audio" (a false reason) but ends saying how to get it transcribed."""
    audio = (ROOT / "tests" / "fixtures" / "tiny.mp3").read_bytes() + b"unregistered"
    url = put_audio("inbox/ana@example.com/mine.mp3", audio)

    transcript = aai.Transcriber().submit(url)
    assert transcript.id is not None
    assemblyai_emulator.wait(transcript.id)
    fetched = aai.Transcript.get_by_id(transcript.id)

    assert fetched.status == aai.TranscriptStatus.error
    assert fetched.error is not None
    assert "ASSEMBLYAI_API_KEY" in fetched.error and "TRANSCRIPT=" in fetched.error
    assert "does not appear to contain audio" not in fetched.error


def test_an_audio_url_that_cannot_be_downloaded_ends_in_download_error(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    url = put_audio("inbox/ana@example.com/missing.mp3", None)  # presigned, but no object

    transcript = aai.Transcriber().submit(url)
    assert transcript.id is not None
    fetched = aai.Transcript.get_by_id(transcript.id)

    assert fetched.status == aai.TranscriptStatus.error
    assert fetched.error is not None
    assert fetched.error.startswith("Download error, unable to download")


def test_wrong_key_is_refused_with_401(
    assemblyai_emulator: AssemblyAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aai.settings, "api_key", "not-the-key")

    with pytest.raises(aai.types.TranscriptError) as caught:
        aai.Transcriber().submit("https://example.com/a.mp3")

    assert caught.value.status_code == 401
    assert "Authentication error, API token missing/invalid" in str(caught.value)
    assert assemblyai_emulator.submissions == []


def test_scripted_submit_failures_are_consumed_in_order(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    assemblyai_emulator.register_audio(SAMPLE)
    url = put_audio("inbox/ana@example.com/reunion.mp3", SAMPLE.read_bytes())
    assemblyai_emulator.script_submit("server_error", "bad_request")

    codes = []
    for _ in range(2):
        with pytest.raises(aai.types.TranscriptError) as caught:
            aai.Transcriber().submit(url)
        codes.append(caught.value.status_code)
    third = aai.Transcriber().submit(url)

    assert codes == [500, 400]
    assert third.status == aai.TranscriptStatus.queued
    assert len(assemblyai_emulator.submissions) == 3


def test_get_stays_processing_for_the_configured_polls(put_audio: Any) -> None:
    with AssemblyAIEmulator(complete_after_polls=2) as emu:
        emu.register_audio(SAMPLE)
        url = put_audio("inbox/ana@example.com/reunion.mp3", SAMPLE.read_bytes())
        headers = {"authorization": emu.api_key}
        submitted = httpx.post(
            f"{emu.base_url}/v2/transcript", json={"audio_url": url}, headers=headers
        )
        transcript_id = submitted.json()["id"]
        emu.wait(transcript_id)

        statuses = [
            httpx.get(f"{emu.base_url}/v2/transcript/{transcript_id}", headers=headers).json()[
                "status"
            ]
            for _ in range(3)
        ]
        missing = httpx.get(f"{emu.base_url}/v2/transcript/no-such-id", headers=headers)

    assert submitted.json()["status"] == "queued"
    assert statuses == ["processing", "processing", "completed"]
    assert missing.status_code == 404
    assert missing.json() == {"error": "Transcript lookup error, transcript id not found"}


def test_webhook_request_is_what_assemblyai_would_post(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    assemblyai_emulator.register_audio(SAMPLE)
    url = put_audio("inbox/ana@example.com/reunion.mp3", SAMPLE.read_bytes())
    config = aai.TranscriptionConfig().set_webhook("http://127.0.0.1:9/hook", "X-Vox-Secret", "k")
    transcript = aai.Transcriber().submit(url, config)
    assert transcript.id is not None

    webhook_url, headers, body = assemblyai_emulator.webhook_request(transcript.id)

    assert webhook_url == "http://127.0.0.1:9/hook"
    assert headers["X-Vox-Secret"] == "k"
    assert body == {"transcript_id": transcript.id, "status": "completed"}


def test_deliver_webhook_posts_it(assemblyai_emulator: AssemblyAIEmulator, put_audio: Any) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = put_audio("inbox/ana@example.com/notes.txt", b"not audio")
        config = aai.TranscriptionConfig().set_webhook(
            f"http://127.0.0.1:{hook.server_address[1]}/webhooks/assemblyai", "X-Vox-Secret", "k"
        )
        transcript = aai.Transcriber().submit(url, config)
        assert transcript.id is not None
        status = assemblyai_emulator.deliver_webhook(transcript.id)
    finally:
        hook.shutdown()
        hook.server_close()

    assert status == 204
    headers, body = received[0]
    assert headers["x-vox-secret"] == "k"
    assert json.loads(body) == {"transcript_id": transcript.id, "status": "error"}
    assert assemblyai_emulator.transcript(transcript.id)["webhook_status_code"] == 204


def test_register_audio_requires_a_transcript(tmp_path: Path) -> None:
    audio = tmp_path / "x.mp3"
    audio.write_bytes(b"ID3")
    emu = AssemblyAIEmulator()

    with pytest.raises(FileNotFoundError):
        emu.register_audio(audio)
    with pytest.raises(ValueError, match="needs the transcript"):
        emu.register_audio(b"ID3")


# --- AssemblyAI: the request schema ----------------------------------------------------


def post_transcript(emu: AssemblyAIEmulator, **params: Any) -> httpx.Response:
    body = {"audio_url": "https://audio.example/meeting.mp3", **params}
    return httpx.post(
        f"{emu.base_url}/v2/transcript", json=body, headers={"authorization": emu.api_key}
    )


def refusal(emu: AssemblyAIEmulator, **params: Any) -> str:
    """The ``error`` of the 400 the emulator answers for these parameters."""
    response = post_transcript(emu, **params)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"}
    message: str = response.json()["error"]
    return message


def test_an_unknown_parameter_is_a_400_naming_it(assemblyai_emulator: AssemblyAIEmulator) -> None:
    message = refusal(assemblyai_emulator, speaker_label=True, webhook_secret="s")

    assert "speaker_label" in message and "webhook_secret" in message
    assert assemblyai_emulator.submissions[0]["speaker_label"] is True  # recorded, not queued


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"speaker_labels": "yes"}, "speaker_labels"),
        ({"speakers_expected": 2.5}, "speakers_expected"),
        ({"speech_models": "universal-2"}, "speech_models"),
        ({"redact_pii_policies": "phone_number"}, "redact_pii_policies"),
        ({"punctuate": None}, "punctuate"),
        ({"webhook_url": 12}, "webhook_url"),
    ],
)
def test_a_wrong_type_is_a_400(
    assemblyai_emulator: AssemblyAIEmulator, params: dict[str, Any], named: str
) -> None:
    assert named in refusal(assemblyai_emulator, **params)


def test_audio_url_is_required_and_must_be_http(assemblyai_emulator: AssemblyAIEmulator) -> None:
    assert "audio_url is required" in refusal(assemblyai_emulator, audio_url=None)
    assert "should start with http" in refusal(assemblyai_emulator, audio_url="s3://b/k.mp3")


@pytest.mark.parametrize(
    "models",
    [
        ["universal-3-5-pro", "universal-2"],
        ["universal-2"],
        ["assemblyai-stt-3-7", "universal-2"],
        ["universal"],
    ],
)
def test_current_speech_models_are_accepted(
    assemblyai_emulator: AssemblyAIEmulator, models: list[str]
) -> None:
    response = post_transcript(assemblyai_emulator, speech_models=models)

    assert response.status_code == 200, response.text
    assert response.json()["speech_models"] == models


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        ("universal-3-pro", "replaced by universal-3-5-pro"),
        ("nano", "deprecated singular speech_model"),
        ("best", "deprecated singular speech_model"),
        ("slam-1", "deprecated singular speech_model"),
        ("universal-3", "is not a model"),
    ],
)
def test_retired_and_unknown_speech_models_are_refused(
    assemblyai_emulator: AssemblyAIEmulator, model: str, hint: str
) -> None:
    message = refusal(assemblyai_emulator, speech_models=["universal-2", model])

    assert hint in message
    assert "universal-3-5-pro" in message  # the accepted names are listed


def test_the_deprecated_singular_speech_model_takes_only_its_legacy_values(
    assemblyai_emulator: AssemblyAIEmulator,
) -> None:
    assert post_transcript(assemblyai_emulator, speech_model="universal").status_code == 200
    assert "speech_model" in refusal(assemblyai_emulator, speech_model="universal-2")


@pytest.mark.parametrize("code", ["es", "en", "en_us", "en_au", "en_uk", "fr", "de", "pt", "nl"])
def test_language_codes_of_the_enum_are_accepted(
    assemblyai_emulator: AssemblyAIEmulator, code: str
) -> None:
    assert post_transcript(assemblyai_emulator, language_code=code).status_code == 200


@pytest.mark.parametrize("code", ["en_gb", "es_mx", "pt_br", "ES", "es-MX", "spanish"])
def test_regional_tags_and_other_spellings_are_not_language_codes(
    assemblyai_emulator: AssemblyAIEmulator, code: str
) -> None:
    assert "language_code" in refusal(assemblyai_emulator, language_code=code)


def test_redact_pii_policies_outside_the_enum_are_refused(
    assemblyai_emulator: AssemblyAIEmulator,
) -> None:
    ok = post_transcript(
        assemblyai_emulator, redact_pii=True, redact_pii_policies=["phone_number", "person_name"]
    )
    message = refusal(
        assemblyai_emulator, redact_pii=True, redact_pii_policies=["phone_number", "phone"]
    )

    assert ok.status_code == 200
    assert "'phone'" in message and "redact_pii_policies" in message


def test_other_enums_and_ranges(assemblyai_emulator: AssemblyAIEmulator) -> None:
    assert "redact_pii_sub" in refusal(assemblyai_emulator, redact_pii_sub="mask")
    assert "boost_param" in refusal(assemblyai_emulator, boost_param="max")
    assert "speech_threshold" in refusal(assemblyai_emulator, speech_threshold=1.5)
    assert "content_safety_confidence" in refusal(
        assemblyai_emulator, content_safety=True, content_safety_confidence=10
    )


def test_language_code_and_language_detection_exclude_each_other(
    assemblyai_emulator: AssemblyAIEmulator,
) -> None:
    message = refusal(assemblyai_emulator, language_code="es", language_detection=True)

    assert "language_code" in message and "language_detection" in message
    # ...either one alone, or detection switched off, is fine
    for params in (
        {"language_code": "es", "language_detection": False},
        {"language_detection": True},
    ):
        assert post_transcript(assemblyai_emulator, **params).status_code == 200


def test_the_webhook_auth_header_name_and_value_go_together(
    assemblyai_emulator: AssemblyAIEmulator,
) -> None:
    hook = {"webhook_url": "https://hooks.example/aai"}

    for half in ({"webhook_auth_header_name": "X-Secret"}, {"webhook_auth_header_value": "s"}):
        message = refusal(assemblyai_emulator, **hook, **half)
        assert "webhook_auth_header_name" in message and "webhook_auth_header_value" in message
    both = {"webhook_auth_header_name": "X-Secret", "webhook_auth_header_value": "s"}
    assert post_transcript(assemblyai_emulator, **hook, **both).status_code == 200


def test_check_transcript_params_is_usable_without_the_server() -> None:
    schema.check_transcript_params({"audio_url": "https://a.example/x.mp3", "language_code": "es"})
    with pytest.raises(schema.InvalidParams, match="en_gb"):
        schema.check_transcript_params(
            {"audio_url": "https://a.example/x.mp3", "language_code": "en_gb"}
        )


# --- AssemblyAI: speech_model_used ------------------------------------------------------


@pytest.mark.parametrize(
    ("models", "language", "used"),
    [
        (("universal-3-5-pro", "universal-2"), "es", "universal-3-5-pro"),
        (("universal-3-5-pro", "universal-2"), "en_us", "universal-3-5-pro"),
        (("universal-3-5-pro", "universal-2"), "ja", "universal-2"),
        (("universal-3-5-pro", "universal-2"), "nl", "universal-2"),
        (("universal-2", "universal-3-5-pro"), "es", "universal-2"),
        (("assemblyai-stt-3-7", "universal-2"), "fi", "universal-2"),
        # Nothing listed fits: no fallback outside the list (assemblyai-stt-3-7 migration
        # guide, "Model fallback": the universal-2 fallback was the previous behaviour)
        (("universal-3-5-pro",), "ja", None),
        (("assemblyai-stt-3-7",), "fi", None),
        (("universal-2",), "ja", "universal-2"),  # our default transcribes every code
        (("universal-3-5-pro", "universal-2"), None, "universal-3-5-pro"),
    ],
)
def test_the_first_model_that_supports_the_language_is_used(
    models: tuple[str, ...], language: str | None, used: str | None
) -> None:
    assert schema.speech_model_used(models, language) == used


def test_requested_models_resolve_aliases_and_defaults() -> None:
    assert schema.requested_models({"speech_models": ["universal"]}) == ("universal-3-5-pro",)
    assert schema.requested_models({}) == ("universal-3-5-pro", "universal-2")
    assert schema.requested_models({"speech_model": "best"}) == ("universal-3-5-pro", "universal-2")
    assert schema.requested_models({}, ("assemblyai-stt-3-7",)) == ("assemblyai-stt-3-7",)


@pytest.mark.parametrize(("detected", "used"), [("es", "universal-3-5-pro"), ("ja", "universal-2")])
def test_speech_model_used_follows_the_detected_language(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any, detected: str, used: str
) -> None:
    # Given audio whose transcript is in the detected language
    audio = f"audio in {detected}".encode()
    assemblyai_emulator.register_audio(audio, {"text": "hola", "language_code": detected})
    url = put_audio(f"inbox/ana@example.com/{detected}.mp3", audio)
    config = aai.TranscriptionConfig(
        language_detection=True, speech_models=["universal-3-5-pro", "universal-2"]
    )

    # When it is transcribed with detection
    transcript = aai.Transcriber().submit(url, config)
    assert transcript.id is not None
    final = assemblyai_emulator.wait(transcript.id)

    # Then the model used is the first one that supports that language
    assert final["language_code"] == detected
    assert final["speech_model_used"] == used


@pytest.mark.parametrize(
    ("params", "models"),
    [
        ({"speech_models": ["universal-3-5-pro"], "language_code": "ja"}, "universal-3-5-pro"),
        ({"speech_models": ["assemblyai-stt-3-7"], "language_code": "fi"}, "assemblyai-stt-3-7"),
        ({"speech_models": ["universal"], "language_code": "nl"}, "universal-3-5-pro"),
    ],
)
def test_a_language_code_no_listed_model_supports_is_refused(
    assemblyai_emulator: AssemblyAIEmulator, params: dict[str, Any], models: str
) -> None:
    message = refusal(assemblyai_emulator, **params)

    assert message == (
        f"Invalid request: no model in speech_models ({models}) supports language_code "
        f"{params['language_code']!r}; add one that does, such as universal-2, which "
        "transcribes every language code"
    )


@pytest.mark.parametrize(
    "params",
    [
        {"speech_models": ["universal-2"], "language_code": "ja"},  # our default
        {"speech_models": ["universal-3-5-pro", "universal-2"], "language_code": "ja"},
        {"speech_models": ["universal-3-5-pro"], "language_code": "es"},
        {"language_code": "ja"},  # the account default ends in universal-2
    ],
)
def test_a_language_code_a_listed_model_supports_is_accepted(
    assemblyai_emulator: AssemblyAIEmulator, params: dict[str, Any]
) -> None:
    response = post_transcript(assemblyai_emulator, **params)

    assert response.status_code == 200, response.text


def test_the_account_default_models_decide_without_speech_models() -> None:
    # Given an account whose default is assemblyai-stt-3-7 alone
    with AssemblyAIEmulator(default_speech_models=("assemblyai-stt-3-7",)) as emu:
        assert "no model in speech_models (assemblyai-stt-3-7)" in refusal(emu, language_code="ja")
        assert post_transcript(emu, language_code="es").status_code == 200
    with pytest.raises(schema.InvalidParams, match="supports language_code 'ja'"):
        schema.check_transcript_params(
            {"audio_url": "https://a.example/x.mp3", "language_code": "ja"},
            ("assemblyai-stt-3-7",),
        )


def test_a_detected_language_no_listed_model_supports_ends_in_error(
    assemblyai_emulator: AssemblyAIEmulator, put_audio: Any
) -> None:
    # Given audio detected as Japanese and only Universal-3.5 Pro listed
    audio = b"audio in ja, one model"
    assemblyai_emulator.register_audio(audio, {"text": "konnichiwa", "language_code": "ja"})
    url = put_audio("inbox/ana@example.com/ja-only-u35.mp3", audio)
    config = aai.TranscriptionConfig(language_detection=True, speech_models=["universal-3-5-pro"])

    # When it is transcribed with detection
    transcript = aai.Transcriber().submit(url, config)
    assert transcript.id is not None
    final = assemblyai_emulator.wait(transcript.id)

    # Then no model outside the list transcribes it: the transcript is an error
    assert final["status"] == "error"
    assert final["error"] == (
        "Transcription error: the detected language 'ja' is not supported by any model "
        "in speech_models (universal-3-5-pro); add a model that supports it, such as "
        "universal-2"
    )
    assert final.get("speech_model_used") is None
    assert final["text"] is None


# --- AssemblyAI: our production request fits the schema ---------------------------------


def test_the_settings_defaults_name_only_what_assemblyai_accepts() -> None:
    from voxcliente.settings import Settings

    defaults = {name: field.default for name, field in Settings.model_fields.items()}

    assert set(defaults["assemblyai_speech_models"]) <= set(schema.SPEECH_MODELS)
    assert not set(defaults["assemblyai_speech_models"]) & set(schema.RETIRED_SPEECH_MODELS)
    assert set(defaults["assemblyai_pii_policies"]) <= set(schema.PII_POLICIES)


@pytest.mark.parametrize(
    ("language", "pii"), [("es", False), (None, False), ("en_uk", True), (None, True)]
)
def test_production_submit_is_accepted(
    assemblyai: AssemblyAIEmulator, language: str | None, pii: bool
) -> None:
    from voxcliente.adapters import assemblyai as assemblyai_api
    from voxcliente.settings import get_settings

    cfg = get_settings().model_copy(update={"assemblyai_pii_redaction": pii})
    meeting_id = uuid.uuid4()
    transcript_id = assemblyai_api.submit(
        "https://audio.example/meeting.mp3",
        meeting_id=meeting_id,
        language_code=language,
        settings=cfg,
    )

    sent = assemblyai.submissions[-1]
    assert sent["webhook_url"].endswith(f"?meeting_id={meeting_id}")
    schema.check_transcript_params(sent)  # raises with the reason if it does not fit
    assert assemblyai.transcript(transcript_id)["speech_models"] == sent["speech_models"]
    assert ("redact_pii_policies" in sent) is pii


# --- OpenAI ---------------------------------------------------------------------------

TRANSCRIPT = (
    "A: Buenos días. Soy Laura Méndez, de Logística Austral. Hoy revisamos el plan de "
    "entregas de marzo.\n"
    "B: Buenos días. Soy Carlos Rojas, de Textiles Andinos. Tenemos dos temas para hoy.\n"
    "A: Se acuerda entregar cada quince días desde el 3 de marzo.\n"
    "B: Yo confirmaré las cantidades antes del 1 de marzo.\n"
    "A: Queda pendiente el costo del empaque. ¿Lo asume Textiles Andinos?\n"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Owner(_Strict):
    name: str
    organization: str | None


class Task(_Strict):
    task: str
    owner: Owner
    due_date: str | None


class Minutes(_Strict):
    title: str
    language: Literal["es", "en"]
    meeting_date: str | None
    modality: Literal["presencial", "videollamada"] | None
    decisions: list[str]
    tasks: list[Task]
    open_questions: list[str]
    duration_minutes: int
    confirmed: bool


def _messages(transcript: str = TRANSCRIPT) -> list[Any]:
    return [
        {"role": "system", "content": "Redacta el acta de la reunión."},
        {"role": "user", "content": f"Transcripción:\n{transcript}"},
    ]


def test_parse_returns_the_minimal_instance_of_the_schema(
    openai_emulator: OpenAIEmulator,
) -> None:
    completion = client_for(openai_emulator).chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )

    minutes = completion.choices[0].message.parsed
    assert isinstance(minutes, Minutes)
    # not a shipped sample: nothing is made up from the transcript
    assert minutes.title == "Acta de demostración"
    assert minutes.language == "es"  # the first of the enum
    assert (minutes.meeting_date, minutes.modality) == (None, None)
    assert minutes.decisions == minutes.open_questions == minutes.tasks == []
    assert (minutes.duration_minutes, minutes.confirmed) == (0, False)
    assert completion.model == "emulator"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    sent = openai_emulator.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert openai_emulator.request_headers[0]["authorization"] == "Bearer test-openai-key"


def _sample_messages(sample: Path, language: str) -> list[Any]:
    """The sample's transcript, fenced and timed as the pipeline's prompt has it."""
    transcript = json.loads(sample.with_name(sample.name + ".transcript.json").read_text("utf-8"))
    lines = "\n".join(
        f"[00:00:{i:02d}] {u['speaker']}: {u['text']}"
        for i, u in enumerate(transcript["utterances"])
    )
    return [
        {"role": "system", "content": f'Write the acta. Set "language" to "{language}".'},
        {"role": "user", "content": f"Client: Someone Else\n<transcript>\n{lines}\n</transcript>"},
    ]


@pytest.mark.parametrize(("sample", "language"), [(SAMPLE, "es"), (SAMPLE_EN, "en")])
def test_a_shipped_sample_is_answered_with_its_golden_acta(
    openai_emulator: OpenAIEmulator, sample: Path, language: str
) -> None:
    from voxcliente.acta.model import Acta

    completion = client_for(openai_emulator).chat.completions.parse(
        model="gpt-4.1-mini", messages=_sample_messages(sample, language), response_format=Acta
    )

    stored = json.loads(sample.with_name(sample.stem + ".acta.json").read_text("utf-8"))
    assert completion.choices[0].message.parsed == Acta.model_validate(stored["acta"])
    assert completion.model == "emulator"


def test_another_transcript_gets_a_minimal_acta_that_says_what_it_is(
    openai_emulator: OpenAIEmulator,
) -> None:
    from voxcliente.acta.model import Acta

    messages: list[Any] = [
        {"role": "system", "content": 'Set "language" to "en".'},
        {"role": "user", "content": "<transcript>\n[00:00:01] A: Hello there.\n</transcript>"},
    ]
    completion = client_for(openai_emulator).chat.completions.parse(
        model="gpt-4.1-mini", messages=messages, response_format=Acta
    )

    acta = completion.choices[0].message.parsed
    assert acta is not None
    assert (acta.language, acta.title) == ("en", "Demonstration minutes")
    assert acta.summary.startswith("Demonstration minutes: not written by a language model.")
    assert acta.participants == acta.agenda == acta.topics == acta.decisions == []
    assert acta.next_meeting is None


def test_same_request_same_content(openai_emulator: OpenAIEmulator) -> None:
    client = client_for(openai_emulator)

    first = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )
    second = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )

    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.id == second.id


def test_refusal(openai_emulator: OpenAIEmulator) -> None:
    openai_emulator.script("refusal")

    completion = client_for(openai_emulator).chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )

    message = completion.choices[0].message
    assert message.refusal
    assert message.content is None
    assert message.parsed is None


def test_length_cut_off_raises(openai_emulator: OpenAIEmulator) -> None:
    openai_emulator.script("length")

    with pytest.raises(openai.LengthFinishReasonError):
        client_for(openai_emulator).chat.completions.parse(
            model="gpt-4o-mini", messages=_messages(), response_format=Minutes
        )


@pytest.mark.parametrize(
    ("outcome", "code", "error_type"),
    [
        ("rate_limit", "rate_limit_exceeded", "tokens"),
        ("insufficient_quota", "insufficient_quota", "insufficient_quota"),
    ],
)
def test_429s_carry_their_code(
    openai_emulator: OpenAIEmulator, outcome: str, code: str, error_type: str
) -> None:
    openai_emulator.script(outcome)

    with pytest.raises(openai.RateLimitError) as caught:
        client_for(openai_emulator, max_retries=0).chat.completions.parse(
            model="gpt-4o-mini", messages=_messages(), response_format=Minutes
        )

    assert caught.value.status_code == 429
    assert caught.value.code == code
    assert caught.value.type == error_type


def test_server_error_then_the_sdk_retry_succeeds(openai_emulator: OpenAIEmulator) -> None:
    openai_emulator.script("server_error")

    with pytest.raises(openai.InternalServerError):
        client_for(openai_emulator, max_retries=0).chat.completions.parse(
            model="gpt-4o-mini", messages=_messages(), response_format=Minutes
        )
    openai_emulator.script("server_error")
    completion = client_for(openai_emulator, max_retries=1).chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )

    assert isinstance(completion.choices[0].message.parsed, Minutes)
    assert len(openai_emulator.requests) == 3


def test_delay_lets_a_client_time_out(openai_emulator: OpenAIEmulator) -> None:
    openai_emulator.script(("delay", 2.0))

    with pytest.raises(openai.APITimeoutError):
        client_for(openai_emulator, max_retries=0, timeout=0.2).chat.completions.parse(
            model="gpt-4o-mini", messages=_messages(), response_format=Minutes
        )


def test_wrong_key_is_refused(openai_emulator: OpenAIEmulator) -> None:
    client = openai.OpenAI(base_url=openai_emulator.base_url, api_key="sk-wrong", max_retries=0)

    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages())

    assert caught.value.code == "invalid_api_key"


def test_unknown_outcome_is_rejected(openai_emulator: OpenAIEmulator) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        openai_emulator.script("explode")


# --- the minimal instance of a schema ---------------------------------------------------


def test_minimal_instance_follows_refs_anyof_type_lists_and_bounds() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
            }
        },
        "type": "object",
        "properties": {
            "tree": {"$ref": "#/$defs/Node"},
            "when": {"type": "string", "format": "date"},
            "count": {"type": "integer", "minimum": 4},
            "step": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 5},
            "ratio": {"type": ["number", "null"]},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "kind": {"const": "acta"},
            "unit": {"enum": ["F", "C"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
    }

    assert minimal_instance(schema, "es") == {
        "tree": {"label": "", "children": []},
        "when": "2000-01-01",
        "count": 4,
        "step": 5,
        "ratio": None,
        "maybe": None,
        "kind": "acta",
        "unit": "F",
        "tags": ["", ""],
    }


def test_a_test_can_give_the_next_answer(openai_emulator: OpenAIEmulator) -> None:
    given = {
        "title": "<script>",
        "language": "en",
        "meeting_date": None,
        "modality": None,
        "decisions": ["x"],
        "tasks": [],
        "open_questions": [],
        "duration_minutes": 1,
        "confirmed": True,
    }
    openai_emulator.answer_next(given)
    client = client_for(openai_emulator)

    first = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )
    second = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Minutes
    )

    assert first.choices[0].message.parsed == Minutes.model_validate(given)
    parsed = second.choices[0].message.parsed
    assert parsed is not None and parsed.title == "Acta de demostración"  # used once
