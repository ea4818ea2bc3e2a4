"""What ``make demo`` leaves for each meeting, and the lines it ends with.

``out/<meeting id>/`` receives the email as SES got it (``message.eml``), its
HTML (``acta.html``), its attachments (``acta.docx``, ``transcript.txt``) and
``meeting.json``: the row, the timeline, the usage and cost, the acta and the
emails, read through the repository as the functions wrote them.
"""

from __future__ import annotations

import email
import json
import sys
import time
from email.message import Message
from pathlib import Path
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
    document = {
        "meeting": meeting.model_dump(mode="json") if meeting else None,
        "timeline": [e.model_dump(mode="json") for e in timeline],
        "usage": [u.model_dump(mode="json") for u in usage],
        "total_cost_usd": str(meeting.total_cost_usd) if meeting else None,
        "acta": acta.model_dump(mode="json") if acta else None,
        "email_deliveries": [{f: getattr(d, f) for f in _DELIVERY_FIELDS} for d in deliveries],
    }
    (target / "meeting.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    if raw is not None:
        (target / "message.eml").write_bytes(raw)
        html, attachments = _parts(raw)
        if html is not None:
            (target / "acta.html").write_text(html, encoding="utf-8")
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
