"""Trial mode (``ANONYMOUS_UPLOADS=confirm-email``): an address proves it is read by
whoever asks before a presigned POST is handed out for it.

Without this, anyone could have any audio transcribed, written up and emailed
to any address they name, at our cost and under our sender's reputation. So:

* ``POST /trial/codes`` emails a 6-digit code to the address, within the daily
  limits (per address and per source IP, over a rolling 24 hours);
* ``POST /trial/uploads`` takes the code back: a right one within its validity
  pays for exactly one upload; five wrong ones end the confirmation.

Only an HMAC-SHA256 of the code is stored, keyed by the confirmation's id:
the table never holds a code that could be typed in, and a hash from one row
says nothing about another's code. The comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session, transaction
from voxcliente.adapters.repository import confirmations
from voxcliente.domain.errors import (
    Conflict,
    InputRejected,
    OutcomeUnknown,
    ProviderError,
    RateLimited,
    TransientError,
)
from voxcliente.observability import logger, metrics
from voxcliente.pipeline.spend import seconds_until
from voxcliente.settings import Settings

CODE_DIGITS = 6
MAX_CODE_ATTEMPTS = 5
WINDOW = timedelta(hours=24)


class CodeRejected(InputRejected):
    """400: the code is wrong (``code_invalid``) or can no longer be used (``code_expired``)."""

    code = "code_invalid"


class CodeNotSent(InputRejected):
    """400: SES refused to send the code to this address for good."""

    code = "code_not_sent"


def new_code() -> str:
    """Six random digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(confirmation_id: UUID, code: str) -> str:
    """HMAC-SHA256 of the code, keyed by the confirmation's id (hex)."""
    return hmac.new(confirmation_id.bytes, code.encode("ascii"), hashlib.sha256).hexdigest()


def _limit(created: list[datetime], limit: int, now: datetime, *, code: str, message: str) -> None:
    """429 when ``created`` (a rolling day's rows, oldest first) already holds ``limit``;
    Retry-After: when enough of them have left the window for one more."""
    if len(created) < limit:
        return
    leaves = created[len(created) - limit] + WINDOW
    metrics.add_metric(name="TrialLimitReached", unit="Count", value=1)
    raise RateLimited(message, retry_after_s=seconds_until(leaves, now), code=code)


def request_code(
    email: str, source_ip: str | None, settings: Settings, *, language: str | None = None
) -> tuple[UUID, datetime]:
    """Email a new code to ``email``; returns the confirmation's id and expiry.

    Raises :class:`RateLimited` (``trial_limit_address`` / ``trial_limit_ip``),
    :class:`CodeNotSent` when the address cannot be emailed, and
    :class:`TransientError` when SES could not be reached (the confirmation is
    then forgotten: it never counts against the limits).
    """
    now = datetime.now(UTC)
    since = now - WINDOW
    confirmation_id = uuid4()
    code = new_code()
    expires_at = now + timedelta(seconds=settings.trial_code_ttl_s)
    with transaction() as tx:
        if repo.is_suppressed(tx, email):
            raise CodeNotSent(
                "Earlier emails to this address bounced or were reported as spam, so no "
                "code can be sent to it. Use another address."
            )
        confirmations.lock_trial_limits(tx, email, source_ip)
        _limit(
            confirmations.confirmations_by_address_since(tx, email, since),
            settings.trial_daily_per_address,
            now,
            code="trial_limit_address",
            message=f"This address already asked for {settings.trial_daily_per_address} "
            "codes in the last 24 hours. Use a code already sent, or sign in to upload "
            "without limits per address.",
        )
        if source_ip:
            _limit(
                confirmations.confirmations_by_ip_since(tx, source_ip, since),
                settings.trial_daily_per_ip,
                now,
                code="trial_limit_ip",
                message=f"Your network already asked for {settings.trial_daily_per_ip} "
                "codes in the last 24 hours. Try again later, or sign in to upload.",
            )
        confirmations.create_confirmation(
            tx,
            confirmation_id=confirmation_id,
            email=email,
            code_hash=code_hash(confirmation_id, code),
            source_ip=source_ip,
            expires_at=expires_at,
        )
        delivery_id = confirmations.record_confirmation_email(tx, email)
    _send_code(confirmation_id, delivery_id, email, code, settings, language)
    return confirmation_id, expires_at


def _send_code(
    confirmation_id: UUID,
    delivery_id: UUID,
    email: str,
    code: str,
    settings: Settings,
    language: str | None,
) -> None:
    from voxcliente.adapters import ses
    from voxcliente.render.notices import render_confirmation_email

    minutes = max(1, settings.trial_code_ttl_s // 60)
    rendered = render_confirmation_email(code, minutes=minutes, language=language)
    log = {"confirmation_id": str(confirmation_id)}

    def unsent(reason: str) -> None:
        with session() as conn:
            confirmations.end_confirmation_email(conn, delivery_id, message_id=None, reason=reason)
            confirmations.delete_confirmation(conn, confirmation_id)

    try:
        message_id = ses.send_rendered(
            rendered, recipient=email, settings=settings, tags={ses.TAG_KIND: "confirmation"}
        )
    except ValueError as exc:
        unsent("unbuildable")
        raise CodeNotSent("A code cannot be emailed to this address. Use another one.") from exc
    except ProviderError as exc:
        unsent("ses_rejected")
        raise CodeNotSent(
            "The email service refused to send a code to this address. Check it for typos, "
            "or use another one."
        ) from exc
    except OutcomeUnknown:
        # SES may have sent it: the code stays valid and counted.
        logger.warning("the code's email may or may not have been sent", extra=log)
        raise
    except TransientError:
        unsent("ses_unavailable")
        raise
    with session() as conn:
        confirmations.end_confirmation_email(conn, delivery_id, message_id=message_id)
    logger.info("trial code sent", extra=log)


def redeem(confirmation_id: UUID, code: str) -> confirmations.EmailConfirmation:
    """Count one attempt at the code and check it: the confirmation, still unused, when
    the code is right. The caller marks it used with the upload it pays for
    (:func:`voxcliente.adapters.repository.confirmations.use_confirmation`).

    :class:`CodeRejected` (``code_invalid``; ``code_expired`` when expired, unknown
    or out of attempts) or :class:`Conflict` (``code_used``).
    """
    with session() as conn:
        claimed = confirmations.claim_code_attempt(conn, confirmation_id, MAX_CODE_ATTEMPTS)
        current = None if claimed else confirmations.get_confirmation(conn, confirmation_id)
    if claimed is None:
        if current is not None and current.used_at is not None:
            raise Conflict(
                "This code was already used for an upload; ask for a new code to send "
                "another file.",
                code="code_used",
            )
        if current is not None and current.attempts >= MAX_CODE_ATTEMPTS:
            raise CodeRejected(
                "Too many wrong codes were tried; ask for a new code.", code="code_expired"
            )
        raise CodeRejected("This code has expired; ask for a new one.", code="code_expired")
    if not hmac.compare_digest(claimed.code_hash, code_hash(confirmation_id, code)):
        left = MAX_CODE_ATTEMPTS - claimed.attempts
        if left <= 0:
            raise CodeRejected(
                "Wrong code, and that was the last attempt; ask for a new code.",
                code="code_expired",
            )
        raise CodeRejected(
            f"Wrong code: check the {CODE_DIGITS} digits in the email we sent "
            f"({left} attempt(s) left).",
            code="code_invalid",
        )
    return claimed
