"""Write the acta with OpenAI Structured Outputs, long meetings included.

``generate_acta`` turns a transcript into an :class:`~voxcliente.acta.model.Acta`.
A transcript that fits one part (:mod:`voxcliente.acta.chunking`) is one
request. A longer one gets a partial acta per part, with the same schema,
requested concurrently (at most ``ACTA_MAX_PARALLEL_PARTS`` at a time), then one
merge request writes the final acta from the partial actas.

The request itself and the mapping of the SDK's errors live in
:mod:`voxcliente.adapters.openai_api`; the attempts, their timeouts and waits
in :mod:`voxcliente.acta.attempts`. This module adds one more attempt with a
larger output allowance after a length cut-off.

Time budget. One request can take up to ``OPENAI_TIMEOUT_S`` x
(``OPENAI_MAX_RETRIES`` + 1) plus backoff: with the defaults 120 s x 3 = 360 s.
Sequential requests (the parts, the merge, a second try of either after a
length cut-off) could add up to more than the Acta function's timeout. So all
requests of one acta share one deadline, ``budget_s`` seconds from the start:
the acta flow derives it from the Lambda context's remaining time; without one
it is the acta timeout less the same reserve (``attempts.default_budget_s``).
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voxcliente.acta.attempts import (
    MAX_RETRY_AFTER_S,
    MIN_ATTEMPT_S,
    Deadline,
    default_budget_s,
)
from voxcliente.acta.chunking import (
    Segment,
    TranscriptInput,
    span,
    split_transcript,
    transcript_segments,
)
from voxcliente.acta.model import Acta
from voxcliente.acta.prompts import (
    MeetingDetails,
    language_style,
    merge_message,
    merge_system_prompt,
    system_prompt,
    transcript_message,
)
from voxcliente.adapters import openai_api
from voxcliente.domain.errors import InputRejected, ProviderError
from voxcliente.observability import logger
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

__all__ = [
    "MAX_RETRY_AFTER_S",
    "MIN_ATTEMPT_S",
    "GenerationResult",
    "Segment",
    "TranscriptInput",
    "acta_language",
    "generate_acta",
    "split_transcript",
    "transcript_segments",
]

# Output allowance: an acta of a one-hour meeting is 1,500-3,000 tokens. After a
# length cut-off the request is tried once more with the larger allowance (16,384
# is the output limit of the smallest model in the price table, gpt-4o-mini).
MAX_COMPLETION_TOKENS = 8_192
MAX_COMPLETION_TOKENS_RETRY = 16_384

_sleep = time.sleep  # replaced in tests that must not wait


@dataclass(frozen=True)
class GenerationResult:
    acta: Acta
    language: str  # ISO 639-1 code of the acta's language
    model: str  # as the response names it ("emulator" for the local test double)
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


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0

    def add_tokens(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def count_request(self) -> None:
        self.requests += 1

    def add(self, other: _Usage) -> None:
        self.add_tokens(other.input_tokens, other.output_tokens)
        self.requests += other.requests


@dataclass
class _Outcome:
    acta: Acta
    model: str
    usage: _Usage = field(default_factory=_Usage)


class _Generator:
    def __init__(
        self,
        client: openai.OpenAI,
        settings: Settings,
        transcript: TranscriptInput,
        language: str,
        budget_s: float,
    ) -> None:
        self._client = client
        self._settings = settings
        self._model = settings.openai_model
        self._language = language
        self._deadline = Deadline(budget_s, settings, _sleep)
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
            span=span(segments),
        )
        return self._call(system_prompt(self._language), text, f"part {number}/{count}")

    def merge(self, partials: list[tuple[list[Segment], Acta]]) -> _Outcome:
        payload = [
            {"part": number, "recording_span": span(segments), "acta": acta.model_dump(mode="json")}
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
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        usage = _Usage()
        allowance = MAX_COMPLETION_TOKENS
        while True:
            try:
                parsed = self._deadline.run(
                    lambda timeout: openai_api.parse(
                        self._client,
                        model=self._model,
                        messages=messages,
                        response_format=Acta,
                        max_completion_tokens=allowance,  # noqa: B023 - called at once
                        timeout=timeout,
                    ),
                    what,
                    usage.count_request,
                )
            except openai_api.CutOff as exc:
                usage.add_tokens(exc.input_tokens, exc.output_tokens)  # paid for all the same
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
            except ProviderError:
                logger.exception("No acta from the model", extra={"what": what})
                raise
            break
        usage.add_tokens(parsed.input_tokens, parsed.output_tokens)
        if not parsed.value.title.strip():
            raise ProviderError(
                "The AI model returned minutes that did not have the expected structure.",
                code="openai_invalid_output",
            )
        return _Outcome(parsed.value, parsed.model, usage)


# --- the public entry point ---------------------------------------------------------


def _finish(acta: Acta, transcript: TranscriptInput, language: str) -> Acta:
    """What code knows for certain overrides or completes what the model wrote."""
    update: dict[str, Any] = {"language": language}
    if acta.meeting_date is None and transcript.meeting_date is not None:
        update["meeting_date"] = language_style(language).format_date(transcript.meeting_date)
    if acta.client is None and transcript.client_name:
        update["client"] = transcript.client_name
    return acta.model_copy(update=update)


def generate_acta(
    transcript: TranscriptInput,
    *,
    settings: Settings | None = None,
    client: openai.OpenAI | None = None,
    budget_s: float | None = None,
) -> GenerationResult:
    """Write the acta of a transcript, all requests within ``budget_s`` seconds
    (when None, :func:`~voxcliente.acta.attempts.default_budget_s`).

    Raises :class:`InputRejected` (``no_speech``) for an empty transcript,
    :class:`ProviderError` when OpenAI refused for good (``openai_refusal``,
    ``openai_length``, ``openai_quota``, ``openai_rejected``,
    ``openai_invalid_output``) and :class:`TransientError`
    (``openai_unavailable``) when a later attempt may succeed.
    """
    settings = settings or get_settings()
    started = time.monotonic()
    if transcript.is_empty():
        raise InputRejected(
            "The recording contains no speech that could be transcribed, so there is "
            "nothing to write minutes about.",
            code="no_speech",
        )
    language = acta_language(settings, transcript.language_code)
    parts = split_transcript(transcript, settings.acta_max_chars_per_part)
    budget = default_budget_s(settings) if budget_s is None else budget_s

    # One client per execution environment (its certificates and TLS connection are
    # reused by the next acta); a caller's own client is used without its retries.
    if client is None:
        client = openai_api.shared_client(settings)
    else:
        client = openai_api.without_retries(client)
    generator = _Generator(client, settings, transcript, language, budget)
    if len(parts) == 1:
        outcome = generator.whole(parts[0])
        usage = outcome.usage
    else:
        logger.info("Long meeting: writing the acta in parts", extra={"parts": len(parts)})
        partial_actas, usage = generator.parts(parts)
        outcome = generator.merge(list(zip(parts, partial_actas, strict=True)))
        usage.add(outcome.usage)
    result = GenerationResult(
        acta=_finish(outcome.acta, transcript, language),
        language=language,
        model=outcome.model,
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
