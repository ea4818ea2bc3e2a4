"""The local mailbox: every email SES accepted, as its recipient would read it.

The functions send through SES v2 (moto's, in this process) a raw MIME message;
nothing leaves the machine. This module reads what moto's SES backend kept and
serves it: a list (newest first), one message with its HTML part shown as a mail
client shows it (in a sandboxed frame: no script, no form, no navigation), and
its attachments as downloads. ``/mailbox.json`` is the same list for tests.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import html
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from voxlocal import stack as local


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    id: str
    to: str
    sender: str
    subject: str
    date: datetime
    html: str | None
    text: str | None
    attachments: tuple[Attachment, ...]

    def summary(self) -> dict[str, Any]:
        """The ``/mailbox.json`` entry."""
        return {
            "id": self.id,
            "to": self.to,
            "subject": self.subject,
            "date": self.date.isoformat().replace("+00:00", "Z"),
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
                for a in self.attachments
            ],
        }


def parse(message_id: str, raw: bytes, received: datetime) -> Mail:
    """One raw MIME message (what SES v2's ``Content.Raw`` carried) as the mailbox shows it."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(parsed, EmailMessage):  # what the default policy always builds
        raise TypeError("not an EmailMessage")
    body_html = parsed.get_body(preferencelist=("html",))
    body_text = parsed.get_body(preferencelist=("plain",))
    attachments: list[Attachment] = []
    for part in parsed.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        payload = part.get_payload(decode=True)
        attachments.append(
            Attachment(
                filename=part.get_filename() or f"attachment-{len(attachments) + 1}",
                content_type=part.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    date = received
    if parsed["Date"]:
        with contextlib.suppress(TypeError, ValueError):
            date = email.utils.parsedate_to_datetime(str(parsed["Date"])).astimezone(UTC)
    return Mail(
        id=message_id,
        to=str(parsed["To"] or ""),
        sender=str(parsed["From"] or ""),
        subject=str(parsed["Subject"] or "(no subject)"),
        date=date,
        html=str(body_html.get_content()) if isinstance(body_html, EmailMessage) else None,
        text=str(body_text.get_content()) if isinstance(body_text, EmailMessage) else None,
        attachments=tuple(attachments),
    )


class Mailbox:
    """What SES accepted so far, parsed once per message."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parsed: dict[str, Mail] = {}

    def mails(self) -> list[Mail]:
        """Every message, newest first."""
        sent = local.sent_messages()
        with self._lock:
            for message in sent:
                if message.id in self._parsed or not hasattr(message, "raw_data"):
                    continue
                raw = message.raw_data
                data = raw.encode() if isinstance(raw, str) else bytes(raw)
                self._parsed[message.id] = parse(message.id, data, datetime.now(UTC))
            order = {m.id: n for n, m in enumerate(sent)}
            mails = [m for m in self._parsed.values() if m.id in order]
        return sorted(mails, key=lambda m: (m.date, order[m.id]), reverse=True)

    def messages(self) -> list[dict[str, Any]]:
        """The ``/mailbox.json`` list."""
        return [m.summary() for m in self.mails()]

    def get(self, message_id: str) -> Mail | None:
        return next((m for m in self.mails() if m.id == message_id), None)

    def wait_for(self, to: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
        """The newest message to ``to`` once there is one (for tests and scripts)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [m for m in self.messages() if to.lower() in m["to"].lower()]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no email to {to} within {timeout_s:.0f} s")
            time.sleep(0.1)


# --- pages ----------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.5rem;border-bottom:1px solid #ccc}
a{color:#0b57d0}dt{font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
iframe{width:100%;height:75vh;border:1px solid #ccc;background:#fff}
.note{color:#555}
"""


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def list_page(mails: list[Mail]) -> bytes:
    rows = "".join(
        f'<tr><td>{html.escape(m.to)}</td><td><a href="/mailbox/{quote(m.id)}">'
        f"{html.escape(m.subject)}</a></td><td>{m.date:%Y-%m-%d %H:%M:%S} UTC</td>"
        f"<td>{len(m.attachments)}</td></tr>"
        for m in mails
    )
    table = (
        "<table><thead><tr><th>To</th><th>Subject</th><th>Date</th><th>Attachments</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        if mails
        else '<p class="note">No email yet. Upload a recording and its acta arrives here.</p>'
    )
    return _page(
        "Local mailbox",
        "<h1>Local mailbox</h1><p class=note>Every email the functions sent through SES "
        "(emulated by moto): nothing left this machine.</p>" + table,
    )


def message_page(mail: Mail) -> bytes:
    links = "".join(
        f'<li><a href="/mailbox/{quote(mail.id)}/attachments/{n}" download>'
        f"{html.escape(a.filename)}</a> ({html.escape(a.content_type)}, {len(a.data):,} bytes)</li>"
        for n, a in enumerate(mail.attachments)
    )
    if mail.html is not None:
        # The email's own HTML, isolated as a mail client would: no script, no
        # forms, no navigation of this page.
        content = f'<iframe title="Email body" sandbox srcdoc="{html.escape(mail.html)}"></iframe>'
    else:
        content = f"<pre>{html.escape(mail.text or '')}</pre>"
    headers = (
        f"<dl><dt>From</dt><dd>{html.escape(mail.sender)}</dd>"
        f"<dt>To</dt><dd>{html.escape(mail.to)}</dd>"
        f"<dt>Subject</dt><dd>{html.escape(mail.subject)}</dd>"
        f"<dt>Date</dt><dd>{mail.date:%Y-%m-%d %H:%M:%S} UTC</dd></dl>"
    )
    attachments = f"<h2>Attachments</h2><ul>{links}</ul>" if links else ""
    return _page(
        mail.subject,
        f'<p><a href="/mailbox">&larr; Mailbox</a></p><h1>{html.escape(mail.subject)}</h1>'
        f"{headers}{attachments}{content}",
    )
