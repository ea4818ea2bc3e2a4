"""Submit: an object landed in the bucket; make it a meeting and send it to AssemblyAI once.

The S3 event's records each end in their own outcome (submitted, duplicate,
failed with the reason, or skipped); a transient failure is raised after every
record was handled so that Lambda's retry redoes only what is still pending.
The steps live in :mod:`voxcliente.pipeline.intake`, because the reconciler
runs them too (a meeting whose Submit runs all failed, an S3 event whose
retries ran out); who gets the acta is :mod:`voxcliente.pipeline.addressing`'s.
"""

from __future__ import annotations

from typing import Any

from voxcliente.adapters.s3 import ObjectRef, object_refs
from voxcliente.pipeline.intake import Outcome, key_hash, process_event, process_object

__all__ = [
    "ObjectRef",
    "Outcome",
    "handle",
    "key_hash",
    "object_refs",
    "process_event",
    "process_object",
]


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The function's answer: one result per record of the S3 event."""
    return {
        "results": [
            {
                "key": o.key,
                "meeting_id": str(o.meeting_id) if o.meeting_id else None,
                "result": o.result,
            }
            for o in process_event(event)
        ]
    }
