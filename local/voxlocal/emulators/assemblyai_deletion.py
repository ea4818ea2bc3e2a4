"""The AssemblyAI emulator's ``DELETE /v2/transcript/{id}`` (a mixin of the emulator).

As the real service answers it (its API reference, "Delete transcript"; the
SDKs' tests record a real answer):

* 200 with the transcript JSON, its content blanked: ``text`` becomes
  ``"Deleted by user."``, ``audio_url`` and ``webhook_url``
  ``"http://deleted_by_user"``, the words, utterances and other results null;
  ``status`` and ``audio_duration`` stay. Later GETs answer the same, and
  deleting again answers 200 again.
* A file sent through ``POST /v2/upload`` for it is deleted with it.
* 404 ``Transcript lookup error, transcript id not found`` for an unknown id;
  401 for a wrong key (checked before any route, as for every request).
* A transcript still ``queued`` or ``processing`` cannot be deleted: 400. The
  documentation gives no wording for this answer; the text here is ours.

Every successful deletion is recorded in :attr:`deletions` (ids, in order).
:meth:`script_delete` makes the next DELETEs fail as an outage would.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from voxlocal.emulators._http import Response
from voxlocal.emulators.assemblyai_jobs import Job

DELETED_TEXT = "Deleted by user."
DELETED_URL = "http://deleted_by_user"
STILL_PROCESSING_ERROR = "Transcript deletion error, the transcript is still being processed"
DELETE_OUTCOMES = ("server_error", "unavailable")

# Results blanked by a deletion (what was said, and what was derived from it).
_BLANKED = (
    "words",
    "utterances",
    "confidence",
    "chapters",
    "entities",
    "summary",
    "auto_highlights_result",
    "content_safety_labels",
    "iab_categories_result",
    "sentiment_analysis_results",
)
_UPLOAD_ID = re.compile(r"/upload/([0-9a-f-]+)$")


class TranscriptDeletion:
    """Needs the emulator's lock, jobs, uploads and the not-found wording."""

    _lock: threading.RLock
    _jobs: dict[str, Job]
    _uploads: dict[str, bytes]
    _delete_script: list[str]
    deletions: list[str]

    def script_delete(self, *outcomes: str) -> None:
        """Answer the next DELETEs with these failures, in order: ``server_error``
        (500) or ``unavailable`` (503)."""
        for outcome in outcomes:
            if outcome not in DELETE_OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; expected one of {DELETE_OUTCOMES}")
        with self._lock:
            self._delete_script.extend(outcomes)

    def deleted(self, transcript_id: str) -> bool:
        """Whether this transcript was deleted."""
        with self._lock:
            return transcript_id in self.deletions

    def _delete(self, transcript_id: str, not_found: str) -> Response:
        with self._lock:
            outcome = self._delete_script.pop(0) if self._delete_script else None
            if outcome == "server_error":
                return Response.json_body(500, {"error": "Internal server error"})
            if outcome == "unavailable":
                return Response.json_body(503, {"error": "Service unavailable"})
            job = self._jobs.get(transcript_id)
            if job is None:
                return Response.json_body(404, {"error": not_found})
            if not job.final:
                return Response.json_body(400, {"error": STILL_PROCESSING_ERROR})
            upload = _UPLOAD_ID.search(str(job.submission.get("audio_url") or ""))
            if upload:
                self._uploads.pop(upload.group(1), None)
            job.state = blanked(job.state)
            job.polls = max(job.polls, 1 << 30)  # no "processing" view any more
            if transcript_id not in self.deletions:
                self.deletions.append(transcript_id)
            return Response.json_body(200, dict(job.state))


def blanked(state: dict[str, Any]) -> dict[str, Any]:
    """The transcript JSON as AssemblyAI keeps it after a deletion."""
    out = dict(state)
    if "text" in out or "status" in out:
        out["text"] = DELETED_TEXT
    for key in ("audio_url", "webhook_url"):
        if out.get(key):
            out[key] = DELETED_URL
    for key in _BLANKED:
        if key in out:
            out[key] = None
    return out
