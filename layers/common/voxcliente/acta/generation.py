"""Write the acta with OpenAI Structured Outputs, long meetings included.

``generate_acta`` turns a transcript into an :class:`~voxcliente.acta.model.Acta`.
A transcript that fits ``ACTA_MAX_CHARS_PER_PART`` (about 4 characters per token)
is one request. A longer one is split on utterance boundaries into parts (an
utterance longer than a part is split on sentence boundaries); each part gets a
partial acta with the same schema, requested concurrently (at most
``ACTA_MAX_PARALLEL_PARTS`` at a time), then one merge request writes the final
acta from the partial actas. Every utterance goes into exactly one part: nothing
is truncated.

``openai`` is imported lazily, inside the functions that call it, so importing
this module (for :func:`acta_language` or the dataclasses) stays light.

Retries. The SDK retries every 429 the same way (``_should_retry`` in
``openai/_base_client.py`` returns True for any 429 unless the server sends
``x-should-retry: false``), so an exhausted account (429 with code
``insufficient_quota``, which never heals by waiting) would be retried like a
rate limit. The client therefore runs with ``max_retries=0`` and this module
retries by itself, ``OPENAI_MAX_RETRIES`` times, only what is worth it: 429
``rate_limit_exceeded``, 408/409, 5xx, timeouts and connection errors, waiting
what ``retry-after-ms`` / ``retry-after`` ask (as the SDK does) or an
exponential backoff (0.5 s doubling, at most 8 s, with jitter: the SDK's).

Time budget. The Acta function times out at 900 s. One request can take up to
``OPENAI_TIMEOUT_S`` x (``OPENAI_MAX_RETRIES`` + 1) plus backoff: with the
defaults 120 s x 3 = 360 s. Sequential requests: the parts (one round while
parts <= ``ACTA_MAX_PARALLEL_PARTS``, they run concurrently), the merge, and a
second try of either with a larger output allowance after a length cut-off: up
to 4 x 360 s = 1,440 s for a long meeting, too much. So all requests of one
acta share a deadline of ``GENERATION_BUDGET_S`` (780 s, leaving 120 s for
rendering, SES and the database): each attempt's timeout is the smaller of
``OPENAI_TIMEOUT_S`` and the time left, no attempt starts with less than
``MIN_ATTEMPT_S`` left, and no backoff sleeps past the deadline. When time runs
out the error is transient: SQS delivers the message again later.
"""

from __future__ import annotations

import json
import random
import re
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from voxcliente.acta.model import Acta
from voxcliente.acta.prompts import (
    MeetingDetails,
    format_timestamp,
    language_style,
    merge_message,
    merge_system_prompt,
    system_prompt,
    transcript_message,
)
from voxcliente.domain.errors import InputRejected, ProviderError, TransientError
from voxcliente.domain.models import Utterance
from voxcliente.observability import logger
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam, ParsedChatCompletion

GENERATION_BUDGET_S = 780.0
MIN_ATTEMPT_S = 10.0
# Output allowance: an acta of a one-hour meeting is 1,500-3,000 tokens. After a
# length cut-off the request is tried once more with the larger allowance (16,384
# is the output limit of the smallest model in the price table, gpt-4o-mini).
MAX_COMPLETION_TOKENS = 8_192
MAX_COMPLETION_TOKENS_RETRY = 16_384
# The SDK honours retry-after up to 120 s; inside a Lambda invocation a longer
# wait is better spent with the message back on the queue.
MAX_RETRY_AFTER_S = 60.0
_INITIAL_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 8.0

_sleep = time.sleep  # replaced in tests that must not wait
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class TranscriptInput:
    """What the worker hands over: the transcript and what the uploader said."""

    text: str
    utterances: list[Utterance]
    language_code: str | None  # AssemblyAI's detected code: "es", "en", "en_us"
    audio_duration_s: float | None
    meeting_date: date | None
    client_name: str | None
    original_filename: str


@dataclass(frozen=True)
class GenerationResult:
    acta: Acta
    language: str  # ISO 639-1 code of the acta's language
    model: str
    input_tokens: int  # summed over every request
    output_tokens: int
    parts: int  # 1, or the number of parts of a long meeting
    generation_ms: int
    requests: int  # HTTP requests made, retries included


def acta_language(settings: Settings, language_code: str | None) -> str:
    """The language to write the acta in.

    ``ACTA_LANGUAGE`` unless ``ACTA_FOLLOW_MEETING_LANGUAGE`` is on and the
    recording's language was detected; AssemblyAI's regional codes are reduced
    to ISO 639-1 (``en_us`` -> ``en``). A code that is not two letters falls back.
    """
    default = settings.acta_language.strip().lower() or "es"
    if not settings.acta_follow_meeting_language or not language_code:
        return default
    base = re.split(r"[_-]", language_code.strip().lower(), maxsplit=1)[0]
    if len(base) == 2 and base.isascii() and base.isalpha():
        return base
    return default


# --- splitting a long transcript ----------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One transcript line: an utterance, or a piece of one too long for a part."""

    utterance_index: int
    speaker: str | None
    start_ms: int | None
    text: str

    def line(self) -> str:
        if self.speaker is None and self.start_ms is None:
            return self.text
        stamp = format_timestamp(self.start_ms) if self.start_ms is not None else "--:--:--"
        return f"[{stamp}] {self.speaker or '?'}: {self.text}"


def _split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between sentences if possible."""
    units: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence) <= limit:
            units.append(sentence)
            continue
        for word in sentence.split(" "):  # a run-on "sentence": cut between words
            units.extend(word[i : i + limit] for i in range(0, len(word), limit))
    pieces: list[str] = []
    current = ""
    for unit in units:
        if not current:
            current = unit
        elif len(current) + 1 + len(unit) <= limit:
            current = f"{current} {unit}"
        else:
            pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def transcript_segments(transcript: TranscriptInput, max_chars: int) -> list[Segment]:
    """The transcript as lines no longer than ``max_chars``, in order.

    Utterances without text are skipped; whitespace inside an utterance is
    collapsed (a line is one line). Without utterances (no speaker labels) the
    plain text is used.
    """
    source: list[tuple[int, str | None, int | None, str]] = [
        (index, u.speaker, u.start_ms, " ".join(u.text.split()))
        for index, u in enumerate(transcript.utterances)
        if u.text.strip()
    ]
    if not source and transcript.text.strip():
        source = [(0, None, None, " ".join(transcript.text.split()))]
    segments: list[Segment] = []
    for index, speaker, start_ms, text in source:
        whole = Segment(index, speaker, start_ms, text)
        if len(whole.line()) + 1 <= max_chars:
            segments.append(whole)
            continue
        prefix = len(whole.line()) - len(text)
        limit = max(max_chars - prefix - 1, max_chars // 2)
        segments.extend(
            Segment(index, speaker, start_ms, piece) for piece in _split_text(text, limit)
        )
    return segments


def split_transcript(transcript: TranscriptInput, max_chars: int) -> list[list[Segment]]:
    """The transcript in parts of at most ``max_chars`` characters of lines.

    Parts are filled in order and cut only between lines, so every utterance is
    in exactly one part unless it alone is longer than a part (then its pieces
    are consecutive).
    """
    parts: list[list[Segment]] = []
    current: list[Segment] = []
    size = 0
    for segment in transcript_segments(transcript, max_chars):
        length = len(segment.line()) + 1
        if current and size + length > max_chars:
            parts.append(current)
            current, size = [], 0
        current.append(segment)
        size += length
    if current:
        parts.append(current)
    return parts


def _span(part: list[Segment]) -> tuple[str, str] | None:
    stamps = [s.start_ms for s in part if s.start_ms is not None]
    if not stamps:
        return None
    return format_timestamp(min(stamps)), format_timestamp(max(stamps))


# --- requests -----------------------------------------------------------------------


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0

    def add_completion(self, completion: Any) -> None:
        usage = getattr(completion, "usage", None)
        if usage is not None:
            self.input_tokens += usage.prompt_tokens
            self.output_tokens += usage.completion_tokens

    def add(self, other: _Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.requests += other.requests


@dataclass
class _Outcome:
    acta: Acta
    usage: _Usage = field(default_factory=_Usage)


def _retry_after_s(exc: openai.APIError) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, then ``retry-after``)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    return None


def _error_code(exc: openai.APIError) -> str | None:
    # The SDK builds APIError from the body's "error" object: code and type.
    return exc.code or getattr(exc, "type", None)


def _api_message(exc: openai.APIStatusError) -> str | None:
    # The SDK keeps the body's "error" object as exc.body: {"message", "type", "param", "code"}.
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return message.strip().rstrip(".") if isinstance(message, str) and message.strip() else None


def _rejected_message(exc: openai.APIStatusError, model: str) -> str:
    status = exc.status_code
    detail = _api_message(exc)
    if status == 401:
        reason = "the OpenAI API key was not accepted"
    elif status == 403:
        reason = "the OpenAI account is not allowed to use this service"
    elif status == 404:
        reason = (
            f"the model '{model}' does not exist or this OpenAI account has no access to it "
            "(check OPENAI_MODEL)"
        )
    elif _error_code(exc) == "context_length_exceeded":
        reason = (
            f"the transcript is too long for the model '{model}' (a smaller "
            "ACTA_MAX_CHARS_PER_PART or a model with a larger context window is needed)"
        )
    elif detail:
        reason = f"the request was not valid: {detail}"
    else:
        reason = "the request was not valid"
    return f"OpenAI refused the request to write the acta (HTTP {status}): {reason}."


class _Generator:
    def __init__(
        self,
        client: openai.OpenAI,
        settings: Settings,
        transcript: TranscriptInput,
        language: str,
    ) -> None:
        self._client = client
        self._settings = settings
        self._model = settings.openai_model
        self._language = language
        self._deadline = time.monotonic() + GENERATION_BUDGET_S
        self._details = MeetingDetails(
            original_filename=transcript.original_filename,
            client_name=transcript.client_name,
            meeting_date=transcript.meeting_date,
            audio_duration_s=transcript.audio_duration_s,
            detected_language=transcript.language_code,
        )

    # -- the acta of a whole meeting, of one part, and the merge ---------------------

    def whole(self, segments: list[Segment]) -> _Outcome:
        text = transcript_message(self._details, self._language, [s.line() for s in segments])
        return self._call(system_prompt(self._language), text, "acta")

    def part(self, number: int, count: int, segments: list[Segment]) -> _Outcome:
        text = transcript_message(
            self._details,
            self._language,
            [s.line() for s in segments],
            part=number,
            parts=count,
            span=_span(segments),
        )
        return self._call(system_prompt(self._language), text, f"part {number}/{count}")

    def merge(self, partials: list[tuple[list[Segment], Acta]]) -> _Outcome:
        payload = [
            {
                "part": number,
                "recording_span": _span(segments),
                "acta": acta.model_dump(mode="json"),
            }
            for number, (segments, acta) in enumerate(partials, start=1)
        ]
        text = merge_message(self._details, self._language, json.dumps(payload, ensure_ascii=False))
        return self._call(merge_system_prompt(self._language), text, "merge")

    def parts(self, parts: list[list[Segment]]) -> tuple[list[Acta], _Usage]:
        """Partial actas of every part, concurrently; the first failure ends the lot."""
        workers = min(self._settings.acta_max_parallel_parts, len(parts))
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="acta-part")
        try:
            futures = [
                executor.submit(self.part, number, len(parts), segments)
                for number, segments in enumerate(parts, start=1)
            ]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                error = future.exception() if future.done() else None
                if error is not None:
                    raise error
            usage = _Usage()
            actas = []
            for future in futures:
                outcome = future.result()
                usage.add(outcome.usage)
                actas.append(outcome.acta)
            return actas, usage
        finally:
            # On failure, do not wait for the parts still running: the SQS
            # message goes back to the queue sooner.
            executor.shutdown(wait=False, cancel_futures=True)

    # -- one structured request, with the length retry ------------------------------

    def _call(self, system: str, user: str, what: str) -> _Outcome:
        import openai  # lazily, on purpose: see the module docstring

        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        usage = _Usage()
        allowance = MAX_COMPLETION_TOKENS
        while True:
            try:
                completion = self._send(messages, allowance, usage, what)
            except openai.LengthFinishReasonError as exc:
                # finish_reason "length": the JSON was cut off
                # (raised by openai/lib/_parsing/_completions.py).
                usage.add_completion(exc.completion)
                if allowance < MAX_COMPLETION_TOKENS_RETRY:
                    logger.warning(
                        "Acta output cut off; trying again with a larger allowance",
                        extra={"what": what, "max_completion_tokens": allowance},
                    )
                    allowance = MAX_COMPLETION_TOKENS_RETRY
                    continue
                logger.exception("Acta output cut off twice", extra={"what": what})
                raise ProviderError(
                    "The minutes of this meeting came out longer than the AI model can write "
                    "in one answer, even on a second attempt with more room.",
                    code="openai_length",
                ) from exc
            except openai.ContentFilterFinishReasonError as exc:
                logger.exception("Acta stopped by the content filter", extra={"what": what})
                raise ProviderError(
                    "The AI model's content filter stopped it from writing minutes of this "
                    "recording, so no acta could be produced.",
                    code="openai_refusal",
                ) from exc
            except ValidationError as exc:
                logger.exception("Acta output did not match the schema", extra={"what": what})
                raise ProviderError(
                    "The AI model returned minutes that did not have the expected structure.",
                    code="openai_invalid_output",
                ) from exc
            break
        usage.add_completion(completion)
        return _Outcome(self._check(completion, what), usage)

    def _check(self, completion: ParsedChatCompletion[Acta], what: str) -> Acta:
        if not completion.choices:
            raise ProviderError(
                "The AI model returned an empty answer instead of the minutes.",
                code="openai_invalid_output",
            )
        message = completion.choices[0].message
        if message.refusal:
            # Structured Outputs: a safety refusal comes in message.refusal, with no parsed content.
            logger.warning(
                "Acta refused by the model", extra={"what": what, "refusal": message.refusal}
            )
            raise ProviderError(
                "The AI model declined to write minutes of this recording, so no acta could "
                "be produced.",
                code="openai_refusal",
            )
        acta = message.parsed
        if acta is None or not acta.title.strip():
            raise ProviderError(
                "The AI model returned minutes that did not have the expected structure.",
                code="openai_invalid_output",
            )
        return acta

    # -- transport: retries that make sense, within the deadline --------------------

    def _attempt_timeout(self) -> float:
        left = self._deadline - time.monotonic()
        if left < MIN_ATTEMPT_S:
            raise TransientError(
                "Writing the acta took longer than the time allowed (OpenAI was slow or "
                "unavailable); it will be tried again automatically.",
                code="openai_unavailable",
            )
        return min(self._settings.openai_timeout_s, left)

    def _send(
        self,
        messages: list[ChatCompletionMessageParam],
        allowance: int,
        usage: _Usage,
        what: str,
    ) -> ParsedChatCompletion[Acta]:
        import openai  # lazily, on purpose: see the module docstring

        attempts = self._settings.openai_max_retries + 1
        last: openai.APIError | None = None
        for attempt in range(attempts):
            timeout = self._attempt_timeout()
            usage.requests += 1
            try:
                return self._client.chat.completions.parse(
                    model=self._model,
                    messages=messages,
                    response_format=Acta,
                    max_completion_tokens=allowance,
                    timeout=timeout,
                )
            except openai.RateLimitError as exc:
                if _error_code(exc) == "insufficient_quota":
                    logger.exception("OpenAI quota exhausted", extra={"what": what})
                    raise ProviderError(
                        "The OpenAI account used to write actas has run out of credit "
                        "(insufficient quota). An administrator must add credit before "
                        "this meeting can be processed again.",
                        code="openai_quota",
                    ) from exc
                last = exc
            except openai.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in (408, 409):
                    logger.exception(
                        "OpenAI rejected the acta request",
                        extra={"what": what, "status": exc.status_code, "code": _error_code(exc)},
                    )
                    raise ProviderError(
                        _rejected_message(exc, self._model), code="openai_rejected"
                    ) from exc
                last = exc
            except openai.APIConnectionError as exc:  # APITimeoutError included
                last = exc
            delay = self._retry_delay(last, attempt)
            if attempt + 1 >= attempts or delay is None:
                break
            logger.warning(
                "OpenAI request failed; retrying",
                extra={"what": what, "error": type(last).__name__, "delay_s": round(delay, 2)},
            )
            _sleep(delay)
        logger.error(
            "OpenAI unavailable for the acta",
            extra={"what": what, "error": type(last).__name__, "detail": str(last)},
        )
        raise TransientError(
            "OpenAI was unavailable or overloaded while writing the acta "
            f"({type(last).__name__}); it will be tried again automatically.",
            code="openai_unavailable",
        ) from last

    def _retry_delay(self, exc: openai.APIError | None, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None if it is not worth waiting."""
        response = getattr(exc, "response", None)
        if response is not None and response.headers.get("x-should-retry") == "false":
            return None
        asked = _retry_after_s(exc) if exc is not None else None
        if asked is not None and asked > 0:
            if asked > MAX_RETRY_AFTER_S:
                return None
            delay = asked
        else:
            backoff = min(_INITIAL_BACKOFF_S * 2**attempt, _MAX_BACKOFF_S)
            delay = backoff * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not crypto
        if time.monotonic() + delay + MIN_ATTEMPT_S > self._deadline:
            return None
        return delay


# --- the public entry point ---------------------------------------------------------


def _finish(acta: Acta, transcript: TranscriptInput, language: str) -> Acta:
    """What code knows for certain overrides or completes what the model wrote."""
    update: dict[str, Any] = {"language": language}
    if acta.meeting_date is None and transcript.meeting_date is not None:
        update["meeting_date"] = language_style(language).format_date(transcript.meeting_date)
    if acta.client is None and transcript.client_name:
        update["client"] = transcript.client_name
    return acta.model_copy(update=update)


def openai_client(settings: Settings) -> openai.OpenAI:
    """The OpenAI client, every value explicit from the settings (given None, the SDK
    reads ``OPENAI_*`` from the environment itself, and an empty value breaks it)."""
    import openai  # lazily, on purpose: see the module docstring

    client = openai.OpenAI(
        api_key=settings.get_openai_api_key(),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=0,  # OPENAI_MAX_RETRIES are made here, see the module docstring
    )
    # Settings has no organization or project, so the API key's own apply. Given None
    # the SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID by itself and sends them as
    # headers (an empty variable as an empty header); cleared, no header is sent.
    client.organization = None
    client.project = None
    return client


def generate_acta(
    transcript: TranscriptInput,
    *,
    settings: Settings | None = None,
    client: openai.OpenAI | None = None,
) -> GenerationResult:
    """Write the acta of a transcript.

    Raises :class:`InputRejected` (``no_speech``) for an empty transcript,
    :class:`ProviderError` when OpenAI refused for good (``openai_refusal``,
    ``openai_length``, ``openai_quota``, ``openai_rejected``,
    ``openai_invalid_output``) and :class:`TransientError`
    (``openai_unavailable``) when a later attempt may succeed.
    """
    settings = settings or get_settings()
    started = time.monotonic()
    if not transcript.text.strip() and not any(u.text.strip() for u in transcript.utterances):
        raise InputRejected(
            "The recording contains no speech that could be transcribed, so there is "
            "nothing to write minutes about.",
            code="no_speech",
        )
    language = acta_language(settings, transcript.language_code)
    parts = split_transcript(transcript, settings.acta_max_chars_per_part)

    owned = client is None
    if client is None:
        client = openai_client(settings)
    else:
        given = client
        client = client.with_options(max_retries=0)
        # The SDK's copy, given organization=None, reads OPENAI_ORG_ID/OPENAI_PROJECT_ID
        # from the environment again: keep the caller's.
        client.organization = given.organization
        client.project = given.project
    try:
        generator = _Generator(client, settings, transcript, language)
        if len(parts) == 1:
            outcome = generator.whole(parts[0])
            usage = outcome.usage
        else:
            logger.info("Long meeting: writing the acta in parts", extra={"parts": len(parts)})
            partial_actas, usage = generator.parts(parts)
            outcome = generator.merge(list(zip(parts, partial_actas, strict=True)))
            usage.add(outcome.usage)
    finally:
        if owned:
            client.close()
    result = GenerationResult(
        acta=_finish(outcome.acta, transcript, language),
        language=language,
        model=settings.openai_model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        parts=len(parts),
        generation_ms=round((time.monotonic() - started) * 1000),
        requests=usage.requests,
    )
    logger.info(
        "Acta generated",
        extra={
            "language": language,
            "model": result.model,
            "parts": result.parts,
            "requests": result.requests,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "generation_ms": result.generation_ms,
        },
    )
    return result
