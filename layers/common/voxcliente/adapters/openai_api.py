"""OpenAI through its SDK: one Structured Outputs request, its errors mapped.

Named ``openai_api`` rather than ``openai`` so that ``import openai`` inside it,
and a reader's eye, always mean the SDK and never this module.

``openai`` (and pydantic with it) is imported lazily, inside the functions
that call it, so importing this module (and ``voxcliente.acta.generation``)
stays light: the Acta function loads them on its first acta, and the functions
that never write one, never.

Retries. The SDK retries every 429 the same way (``_should_retry`` in
``openai/_base_client.py`` returns True for any 429 unless the server sends
``x-should-retry: false``), so an exhausted account (429 with code
``insufficient_quota``, which never heals by waiting) would be retried like a
rate limit. The client therefore runs with ``max_retries=0``: :func:`parse`
raises :class:`Unavailable` for what is worth another attempt (429
``rate_limit_exceeded``, 408/409, 5xx, timeouts, connection errors), with the
wait the server asked for (``retry-after-ms`` / ``retry-after``, as the SDK
reads them), and a :class:`ProviderError` for what is not. The caller decides
how many attempts fit its time budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from voxcliente.domain.errors import ProviderError
from voxcliente.observability import logger
from voxcliente.settings import Settings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam
    from pydantic import BaseModel


@dataclass(frozen=True)
class Parsed[T: BaseModel]:
    """A parsed answer, the model that wrote it (as the response names it) and its tokens."""

    value: T
    model: str
    input_tokens: int
    output_tokens: int


class CutOff(Exception):
    """``finish_reason: "length"``: the JSON was cut off. Its tokens are still paid for."""

    def __init__(self, input_tokens: int, output_tokens: int) -> None:
        super().__init__("the answer was cut off at the output allowance")
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


class Unavailable(Exception):
    """A failure another attempt may cure; ``retry_after_s`` is what the server asked."""

    def __init__(self, kind: str, detail: str, retry_after_s: float | None, retry: bool) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # the SDK's exception class name, for logs and messages
        self.retry_after_s = retry_after_s
        self.retry = retry  # False when the server sent x-should-retry: false


def openai_client(settings: Settings) -> openai.OpenAI:
    """The OpenAI client, every value explicit from the settings (given None, the SDK
    reads ``OPENAI_*`` from the environment itself, and an empty value breaks it)."""
    return _build(
        settings.get_openai_api_key(), settings.openai_base_url, settings.openai_timeout_s
    )


def _build(api_key: str, base_url: str, timeout_s: float) -> openai.OpenAI:
    import openai

    client = openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout_s,
        max_retries=0,  # the caller retries, see the module docstring
    )
    # Settings has no organization or project, so the API key's own apply. Given None
    # the SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID by itself and sends them as
    # headers (an empty variable as an empty header); cleared, no header is sent.
    client.organization = None
    client.project = None
    return client


def shared_client(settings: Settings) -> openai.OpenAI:
    """The client of this execution environment for these settings, built once.

    Building one loads the certificate store (about 20 ms) and each new client
    opens its own TLS connection; kept across warm invocations, the next acta
    reuses both. A rotated key (read from Secrets Manager) is a new client.
    """
    return _cached_client(
        settings.get_openai_api_key(), settings.openai_base_url, settings.openai_timeout_s
    )


@lru_cache(maxsize=4)
def _cached_client(api_key: str, base_url: str, timeout_s: float) -> openai.OpenAI:
    return _build(api_key, base_url, timeout_s)


def reset_clients() -> None:
    """Forget the shared clients (tests switch between emulators)."""
    _cached_client.cache_clear()


def without_retries(client: openai.OpenAI) -> openai.OpenAI:
    """A copy of a caller's client that leaves retries to us (see the module docstring)."""
    copy = client.with_options(max_retries=0)
    # The SDK's copy, given organization=None, reads OPENAI_ORG_ID/OPENAI_PROJECT_ID
    # from the environment again: keep the caller's.
    copy.organization = client.organization
    copy.project = client.project
    return copy


def _tokens(completion: Any) -> tuple[int, int]:
    usage = getattr(completion, "usage", None)
    if usage is None:
        return 0, 0
    return usage.prompt_tokens, usage.completion_tokens


def parse[T: BaseModel](
    client: openai.OpenAI,
    *,
    model: str,
    messages: list[ChatCompletionMessageParam],
    response_format: type[T],
    max_completion_tokens: int,
    timeout: float,
) -> Parsed[T]:
    """One ``chat.completions.parse`` request.

    Raises :class:`CutOff`, :class:`Unavailable`, or :class:`ProviderError`
    (``openai_refusal``, ``openai_quota``, ``openai_rejected``,
    ``openai_invalid_output``).
    """
    import openai
    from pydantic import ValidationError  # loaded by openai already

    try:
        completion = client.chat.completions.parse(
            model=model,
            messages=messages,
            response_format=response_format,
            max_completion_tokens=max_completion_tokens,
            timeout=timeout,
        )
    except openai.LengthFinishReasonError as exc:
        # raised by openai/lib/_parsing/_completions.py for finish_reason "length"
        raise CutOff(*_tokens(exc.completion)) from exc
    except openai.ContentFilterFinishReasonError as exc:
        raise ProviderError(
            "The AI model's content filter stopped it from writing minutes of this "
            "recording, so no acta could be produced.",
            code="openai_refusal",
        ) from exc
    except ValidationError as exc:
        raise _invalid_output() from exc
    except openai.APIStatusError as exc:
        permanent = _permanent(exc, model)
        if permanent is not None:
            logger.exception(
                "OpenAI refused the request",
                extra={"status": exc.status_code, "code": _error_code(exc)},
            )
            raise permanent from exc
        raise unavailable(exc) from exc
    except openai.APIConnectionError as exc:  # APITimeoutError included
        raise unavailable(exc) from exc
    if not completion.choices:
        raise _invalid_output("The AI model returned an empty answer instead of the minutes.")
    message = completion.choices[0].message
    if message.refusal:
        # Structured Outputs: a safety refusal comes in message.refusal, with no parsed content.
        logger.warning("Refused by the model", extra={"refusal": message.refusal})
        raise ProviderError(
            "The AI model declined to write minutes of this recording, so no acta could "
            "be produced.",
            code="openai_refusal",
        )
    if message.parsed is None:
        raise _invalid_output()
    return Parsed(message.parsed, completion.model, *_tokens(completion))


def _invalid_output(
    message: str = "The AI model returned minutes that did not have the expected structure.",
) -> ProviderError:
    return ProviderError(message, code="openai_invalid_output")


def retry_after_s(exc: openai.APIError) -> float | None:
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


def unavailable(exc: openai.APIError) -> Unavailable:
    """What :func:`parse` raises for an SDK error worth another attempt."""
    response = getattr(exc, "response", None)
    refused = response is not None and response.headers.get("x-should-retry") == "false"
    return Unavailable(type(exc).__name__, str(exc), retry_after_s(exc), retry=not refused)


def _error_code(exc: openai.APIError) -> str | None:
    # The SDK builds APIError from the body's "error" object: code and type.
    return exc.code or getattr(exc, "type", None)


def _api_message(exc: openai.APIStatusError) -> str | None:
    # The SDK keeps the body's "error" object as exc.body: {"message", "type", "param", "code"}.
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return message.strip().rstrip(".") if isinstance(message, str) and message.strip() else None


def _permanent(exc: openai.APIStatusError, model: str) -> ProviderError | None:
    """The error to stop at for good, or None when a later attempt may succeed."""
    status = exc.status_code
    if status == 429 and _error_code(exc) == "insufficient_quota":
        return ProviderError(
            "The OpenAI account used to write actas has run out of credit "
            "(insufficient quota). An administrator must add credit before "
            "this meeting can be processed again.",
            code="openai_quota",
        )
    if status >= 500 or status in (408, 409, 429):
        return None
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
    return ProviderError(
        f"OpenAI refused the request to write the acta (HTTP {status}): {reason}.",
        code="openai_rejected",
    )
