"""What ``make demo`` leaves for each meeting, and the lines it ends with.

``out/<meeting id>/`` receives the email as SES got it (``message.eml``), its
HTML (``acta.html`` for an acta, ``notice.html`` for a failure notice), its
attachments (``acta.docx``, ``transcript.txt``) and ``meeting.json``: the row,
the timeline, the usage and cost, the acta and the emails, read through the
repository as the functions wrote them.

``meeting.json`` writes values the way the account API does, one way each:
amounts as decimal strings with six places (``"0.000400"``), other decimals
plainly (``"0.0000004"``, never ``4.00000E-7``), times in UTC as ISO-8601 with
milliseconds and a ``Z``, nested details and the acta included.
"""

from __future__ import annotations

import email
import json
import re
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import Message
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from voxlocal.stack import ROOT, Progress


def _parts(raw: bytes) -> tuple[str | None, dict[str, bytes]]:
    message: Message = email.message_from_bytes(raw)
    html: str | None = None
    attachments: dict[str, bytes] = {}
    for part in message.walk():
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if name:
            attachments[name] = payload
        elif part.get_content_type() == "text/html" and html is None:
            html = payload.decode(part.get_content_charset() or "utf-8")
    return html, attachments


# What meeting.json shows of each email (the row's bookkeeping columns left out).
_DELIVERY_FIELDS = ("kind", "recipient", "status", "ses_message_id", "sent_at", "delivered_at")
# A time already written as text (in an event's details): re-written with a Z.
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_MICRO = Decimal("0.000001")


def plain(value: Any, key: str = "") -> Any:
    """``value`` as meeting.json writes it (see the module's docstring)."""
    if isinstance(value, dict):
        return {str(k): plain(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, key) for v in value]
    if isinstance(value, Enum):
        return plain(value.value, key)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if key.endswith("cost_usd"):
            return format(value.quantize(_MICRO), "f")
        return format(value.normalize(), "f")
    if isinstance(value, float) and "e" in repr(value):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, str) and _ISO_TIME.match(value):
        return plain(datetime.fromisoformat(value.replace(" ", "T")), key)
    if isinstance(value, UUID):
        return str(value)
    return value


def write_outputs(out_dir: Path, meeting_id: str, raw: bytes | None) -> Path:
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction

    target = out_dir / meeting_id
    target.mkdir(parents=True, exist_ok=True)
    with transaction() as tx:
        uid = UUID(meeting_id)
        meeting = repo.get_meeting(tx, uid)
        timeline = repo.list_events(tx, uid)
        usage = repo.list_usage(tx, uid)
        acta = repo.get_acta(tx, uid)
        deliveries = repo.list_deliveries(tx, uid)
    document = plain(
        {
            "meeting": meeting.model_dump() if meeting else None,
            "timeline": [e.model_dump() for e in timeline],
            "usage": [u.model_dump() for u in usage],
            "total_cost_usd": meeting.total_cost_usd if meeting else None,
            "acta": acta.model_dump() if acta else None,
            "email_deliveries": [{f: getattr(d, f) for f in _DELIVERY_FIELDS} for d in deliveries],
        }
    )
    (target / "meeting.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    if raw is not None:
        (target / "message.eml").write_bytes(raw)
        html, attachments = _parts(raw)
        if html is not None:
            # The email SES got is the acta, or a notice saying why there is none.
            name = "notice.html" if meeting and meeting.status == "failed" else "acta.html"
            (target / name).write_text(html, encoding="utf-8")
        for name, data in attachments.items():
            if name.endswith(".docx"):
                (target / "acta.docx").write_bytes(data)
            elif name.endswith(".txt"):
                (target / "transcript.txt").write_bytes(data)
    return target


def summary(target: Path, meeting_id: str, raw: bytes | None, progress: Progress) -> int:
    meeting_doc = json.loads((target / "meeting.json").read_text(encoding="utf-8"))
    meeting = meeting_doc["meeting"] or {}
    rel = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print()
    acta = (meeting_doc.get("acta") or {}).get("content")
    if acta:
        print(f"Acta: {acta.get('title')}")
        print(f"  {acta.get('summary')}")
    print(f"Meeting {meeting_id}: {meeting.get('status')}", end="")
    if meeting.get("status") == "failed":
        print(f" ({meeting.get('error_code')}: {meeting.get('error_message')})")
    else:
        print()
    print(
        f"Cost: USD {meeting_doc.get('total_cost_usd')}; timeline: "
        + " -> ".join(
            e["to_status"] for e in meeting_doc["timeline"] if e["from_status"] != e["to_status"]
        )
    )
    print(f"Output: {rel}/ ({', '.join(sorted(p.name for p in target.iterdir()))})")
    print(f"Total {time.monotonic() - progress.started:.1f} s")
    if raw is None:
        print("No email was sent: see meeting.json for where the meeting stopped.", file=sys.stderr)
        return 1
    return 0
