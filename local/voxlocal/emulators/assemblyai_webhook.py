"""How the AssemblyAI emulator POSTs a webhook, with AssemblyAI's delivery rules.

"Webhooks for pre-recorded audio" (AssemblyAI docs): a 2xx within 10 s is
success, the 10 s counting the whole answer; otherwise the service retries, up
to 10 attempts in all; a 4xx ends the delivery; the POST is not redirected, so a
3xx is a failed attempt. The pause between attempts is not published.

The emulator records every attempt (``webhook_attempts``), the automatic ones
and those a test makes with ``deliver_webhook``. With
``webhook_before_response=True`` the first attempt happens before the answer to
``POST /v2/transcript``: the webhook then reaches a receiver before the caller
holds the transcript id. ``webhook_url_rewrite`` (for example
:func:`rewrite_origin`) sends a public ``webhook_url`` to a loopback receiver.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voxlocal.emulators.assemblyai_jobs import Job

WEBHOOK_DEADLINE_S = 10.0
WEBHOOK_MAX_ATTEMPTS = 10
# Not published by AssemblyAI; 10 s stands in for it.
WEBHOOK_RETRY_DELAY_S = 10.0

# The webhook POST is not redirected: no HTTPRedirectHandler, so a 3xx comes back
# as an HTTPError with its status (a non-2xx answer, retried like a 5xx).
_WEBHOOK_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _WEBHOOK_OPENER.add_handler(_handler)


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST the emulator made to a ``webhook_url``."""

    transcript_id: str
    number: int  # 1 for the first attempt
    url: str  # where it went (after ``webhook_url_rewrite``)
    status_code: int | None  # None: timeout or connection error
    error: str | None  # why there is no status code
    started_at: float  # time.monotonic()
    elapsed_s: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def ends_delivery(self) -> bool:
        """True when AssemblyAI makes no further attempt: a 2xx or a 4xx."""
        status = self.status_code
        return status is not None and (200 <= status < 300 or 400 <= status < 500)


def rewrite_origin(origin: str) -> Callable[[str], str]:
    """A ``webhook_url_rewrite`` that keeps path and query and replaces scheme and host."""
    target = urlsplit(origin)

    def rewrite(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))

    return rewrite


def post_webhook(
    transcript_id: str,
    number: int,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    deadline_s: float,
) -> WebhookAttempt:
    """POST the webhook once; the attempt as AssemblyAI would count it.

    The deadline is for the whole exchange: an answer that completes after it
    counts as none, however the bytes trickled in (a socket timeout alone is
    per read). Redirects are not followed: a 3xx is an answer that is not a 2xx.
    """
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        with _WEBHOOK_OPENER.open(request, timeout=deadline_s) as response:
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if not isinstance(reason, TimeoutError):
            error = f"connection failed: {reason}"
    elapsed = time.monotonic() - started
    if error is None and (status is None or elapsed > deadline_s):
        status, error = None, f"no answer within {deadline_s} s"
    return WebhookAttempt(transcript_id, number, url, status, error, started, elapsed)


class WebhookSender:
    """The AssemblyAI emulator's webhook side (a mixin of :class:`AssemblyAIEmulator`,
    which owns the jobs, the lock and the settings declared below)."""

    _lock: threading.RLock
    _jobs: dict[str, Job]
    _attempts: list[WebhookAttempt]
    _closing: threading.Event
    deliver_webhooks: bool
    webhook_url_rewrite: Callable[[str], str] | None
    webhook_deadline_s: float
    webhook_max_attempts: int
    webhook_retry_delay_s: float
    # The emulator's: waits until the transcript is final and returns its JSON.
    wait: Callable[..., dict[str, Any]]

    def webhook_request(self, transcript_id: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The POST AssemblyAI would send when the transcript is final: (url, headers, body).

        Waits for the final state first. Raises ``LookupError`` when the
        submission had no ``webhook_url``.
        """
        final = self.wait(transcript_id)
        with self._lock:
            submission = self._jobs[transcript_id].submission
        url = submission.get("webhook_url")
        if not url:
            raise LookupError(f"transcript {transcript_id} was submitted without webhook_url")
        headers = {"content-type": "application/json"}
        name = submission.get("webhook_auth_header_name")
        value = submission.get("webhook_auth_header_value")
        if name and value is not None:
            headers[str(name)] = str(value)
        return str(url), headers, {"transcript_id": transcript_id, "status": final["status"]}

    def webhook_attempts(self, transcript_id: str | None = None) -> list[WebhookAttempt]:
        """The delivery attempts made so far (of one transcript, or all), oldest first."""
        with self._lock:
            return [a for a in self._attempts if transcript_id in (None, a.transcript_id)]

    def wait_webhook_delivery(
        self, transcript_id: str, timeout: float = 10.0
    ) -> list[WebhookAttempt]:
        """Wait until the emulator stopped delivering (success, a 4xx, or attempts used up)."""
        with self._lock:
            job = self._jobs.get(transcript_id)
        if job is None:
            raise KeyError(transcript_id)
        if not self.deliver_webhooks or not job.submission.get("webhook_url"):
            raise LookupError(
                f"transcript {transcript_id} gets no webhook: the emulator was built "
                "without deliver_webhooks=True or the submission had no webhook_url"
            )
        if not job.delivered.wait(timeout):
            raise TimeoutError(
                f"webhook delivery of {transcript_id} still running after {timeout} s "
                f"({len(self.webhook_attempts(transcript_id))} attempt(s) so far)"
            )
        return self.webhook_attempts(transcript_id)

    def deliver_webhook(self, transcript_id: str, timeout: float | None = None) -> int | None:
        """POST :meth:`webhook_request` to its URL once, as one recorded attempt.

        Returns the status code, or None when there was no answer in time
        (``timeout``, default ``webhook_deadline_s``) or no connection; the
        attempt is in :meth:`webhook_attempts` either way.
        """
        self.wait(transcript_id)
        with self._lock:
            job = self._jobs[transcript_id]
            number = 1 + sum(1 for a in self._attempts if a.transcript_id == transcript_id)
        return self._post_webhook(job, number, timeout).status_code

    def _deliver_when_final(self, job: Job, *, first_attempt_inline: bool) -> None:
        """Deliver a final job's webhook if the emulator does so (``deliver_webhooks``):
        all attempts here, or the first here and the retries in the background."""
        if not self.deliver_webhooks or not job.submission.get("webhook_url"):
            job.delivered.set()
            return
        if not first_attempt_inline:
            self._deliver(job, first=1)
        elif not self._post_webhook(job, 1).ends_delivery:
            threading.Thread(
                target=self._deliver, args=(job, 2), name=f"webhook-{job.id}", daemon=True
            ).start()
        else:
            job.delivered.set()

    def _deliver(self, job: Job, first: int) -> None:
        """Attempts ``first`` .. ``webhook_max_attempts``, until one ends the delivery."""
        try:
            for number in range(first, self.webhook_max_attempts + 1):
                if number > 1 and self._closing.wait(self.webhook_retry_delay_s):
                    return  # the emulator stopped
                if self._post_webhook(job, number).ends_delivery:
                    return
        finally:
            job.delivered.set()

    def _post_webhook(
        self, job: Job, number: int, deadline_s: float | None = None
    ) -> WebhookAttempt:
        """POST the webhook once and record the attempt (automatic and manual delivery)."""
        url, headers, body = self.webhook_request(job.id)
        if self.webhook_url_rewrite is not None:
            url = self.webhook_url_rewrite(url)
        deadline = self.webhook_deadline_s if deadline_s is None else deadline_s
        attempt = post_webhook(job.id, number, url, headers, body, deadline)
        with self._lock:
            self._attempts.append(attempt)
            job.state["webhook_status_code"] = attempt.status_code
        return attempt
