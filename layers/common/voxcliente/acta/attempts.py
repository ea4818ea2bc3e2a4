"""Attempts of one request within the acta's deadline: how long each may take,
whether another is worth it, how long to wait before it.

Every request of one acta shares a deadline. Each attempt's timeout is the
smaller of ``OPENAI_TIMEOUT_S`` and the time left; no attempt starts with less
than ``MIN_ATTEMPT_S`` left; ``OPENAI_MAX_RETRIES`` more attempts are made of
what :mod:`voxcliente.adapters.openai_api` calls :class:`Unavailable`, waiting
what the server asked (not past ``MAX_RETRY_AFTER_S``) or an exponential backoff
(0.5 s doubling, at most 8 s, with jitter: the SDK's own), and no wait runs
past the deadline. When time runs out the error is transient: SQS delivers the
message again later.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from voxcliente.adapters.openai_api import Unavailable
from voxcliente.domain.errors import TransientError
from voxcliente.observability import logger
from voxcliente.settings import Settings

MIN_ATTEMPT_S = 10.0
# Seconds the Acta function keeps back from its remaining time for what follows
# the acta's requests: rendering it, sending the email and recording the outcome.
FINISH_RESERVE_S = 120.0
# The SDK honours retry-after up to 120 s; inside a Lambda invocation a longer
# wait is better spent with the message back on the queue.
MAX_RETRY_AFTER_S = 60.0
_INITIAL_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 8.0


def default_budget_s(settings: Settings) -> float:
    """The deadline without a Lambda context (tests, local runs): the acta timeout
    (``ACTA_CLAIM_TIMEOUT_S``, the template's ActaTimeoutSeconds) less the reserve."""
    return max(settings.acta_claim_timeout_s - FINISH_RESERVE_S, 0.0)


def _out_of_time() -> TransientError:
    return TransientError(
        "Writing the acta took longer than the time allowed (OpenAI was slow or "
        "unavailable); it will be tried again automatically.",
        code="openai_unavailable",
    )


class Deadline:
    """The time one acta's requests share, and the retry policy within it."""

    def __init__(self, budget_s: float, settings: Settings, sleep: Callable[[float], None]):
        self._deadline = time.monotonic() + budget_s
        self._timeout_s = settings.openai_timeout_s
        self._attempts = settings.openai_max_retries + 1
        self._sleep = sleep

    def attempt_timeout(self) -> float:
        left = self._deadline - time.monotonic()
        if left < MIN_ATTEMPT_S:
            raise _out_of_time()
        return min(self._timeout_s, left)

    def retry_delay(self, failure: Unavailable, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None if it is not worth waiting."""
        if not failure.retry:
            return None
        asked = failure.retry_after_s
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

    def run[T](self, request: Callable[[float], T], what: str, on_attempt: Callable[[], None]) -> T:
        """``request(timeout)``, tried again while it is :class:`Unavailable` and worth it."""
        last: Unavailable | None = None
        for attempt in range(self._attempts):
            timeout = self.attempt_timeout()
            on_attempt()
            try:
                return request(timeout)
            except Unavailable as exc:
                last = exc
                delay = self.retry_delay(exc, attempt)
                if attempt + 1 >= self._attempts or delay is None:
                    break
                logger.warning(
                    "OpenAI request failed; retrying",
                    extra={"what": what, "error": exc.kind, "delay_s": round(delay, 2)},
                )
            self._sleep(delay)
        kind = last.kind if last is not None else "no attempt"
        logger.error(
            "OpenAI unavailable for the acta",
            extra={"what": what, "error": kind, "detail": str(last)},
        )
        raise TransientError(
            "OpenAI was unavailable or overloaded while writing the acta "
            f"({kind}); it will be tried again automatically.",
            code="openai_unavailable",
        ) from last
