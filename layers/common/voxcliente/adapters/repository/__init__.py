"""Every SQL statement of the system, parameterised, one function each.

All SQL of the project lives in this package, one module per aggregate:

* :mod:`.meetings`: the meeting row, its state machine and its timeline
* :mod:`.sweeps`: what the reconciler looks for (meetings stuck at a stage, unsent notices)
* :mod:`.transcripts`: a meeting's transcript and its acta
* :mod:`.deliveries`: the emails sent (or not) for a meeting
* :mod:`.resends`: an emailed acta asked for again (added within the daily limit)
* :mod:`.usage`: usage lines, the costs and totals computed from them
* :mod:`.accounts`: users, their clients, suppressed addresses
* :mod:`.uploads`: what the upload API promised before the file arrived
* :mod:`.history`: a signed-in person's meetings, clients and totals (theirs only)

Functions take the connection (usually from :func:`voxcliente.adapters.db.transaction`)
as their first argument and return domain models, mapped by the helpers in
:mod:`._rows`. Column names that vary are taken from allow-lists and quoted with
:mod:`psycopg.sql`; values are always bound parameters, named (``%(name)s``)
once a statement has more than four. Callers use the package as one namespace:
``from voxcliente.adapters import repository as repo; repo.get_meeting(tx, id)``.
"""

from __future__ import annotations

from voxcliente.adapters.repository.accounts import (
    get_client,
    get_or_create_client,
    get_or_create_user,
    get_user,
    is_suppressed,
    suppress_email,
    user_for_caller,
)
from voxcliente.adapters.repository.deliveries import (
    claim_delivery,
    claim_delivery_row,
    end_delivery_unsent,
    get_delivery,
    get_delivery_by_id,
    list_deliveries,
    mark_delivery_sent,
    record_delivery_event,
    record_send_event,
    record_unsent_delivery,
    release_delivery,
    take_over_stale_delivery,
)
from voxcliente.adapters.repository.history import (
    ClientSummary,
    HistoryMeeting,
    UserTotals,
    client_summary,
    get_user_client,
    get_user_meeting,
    list_user_clients,
    list_user_meetings,
    rename_client,
    user_totals,
)
from voxcliente.adapters.repository.meetings import (
    add_event,
    claim_generation,
    claim_submission,
    fail_meeting,
    get_latest_meeting_for_upload,
    get_meeting,
    get_meeting_by_transcript_id,
    insert_meeting_once,
    list_events,
    moved_by_transcript,
    release_submission,
    transition,
)
from voxcliente.adapters.repository.resends import (
    ResendRefused,
    add_resend,
    forget_pending_delivery,
)
from voxcliente.adapters.repository.sweeps import (
    find_failed_without_notice,
    find_meetings_waiting,
    find_received_unsubmitted,
)
from voxcliente.adapters.repository.transcripts import (
    StageEvent,
    get_acta,
    get_transcript,
    save_acta,
    save_transcript,
)
from voxcliente.adapters.repository.uploads import (
    caller_owns_upload,
    create_upload,
    get_upload,
    get_upload_by_key,
)
from voxcliente.adapters.repository.usage import (
    UsageLines,
    add_usage,
    audio_seconds_since,
    list_usage,
    refresh_costs,
    spend_since,
    user_cost_summary,
)

__all__ = [
    "ClientSummary",
    "HistoryMeeting",
    "ResendRefused",
    "StageEvent",
    "UsageLines",
    "UserTotals",
    "add_event",
    "add_resend",
    "add_usage",
    "audio_seconds_since",
    "caller_owns_upload",
    "claim_delivery",
    "claim_delivery_row",
    "claim_generation",
    "claim_submission",
    "client_summary",
    "create_upload",
    "end_delivery_unsent",
    "fail_meeting",
    "find_failed_without_notice",
    "find_meetings_waiting",
    "find_received_unsubmitted",
    "forget_pending_delivery",
    "get_acta",
    "get_client",
    "get_delivery",
    "get_delivery_by_id",
    "get_latest_meeting_for_upload",
    "get_meeting",
    "get_meeting_by_transcript_id",
    "get_or_create_client",
    "get_or_create_user",
    "get_transcript",
    "get_upload",
    "get_upload_by_key",
    "get_user",
    "get_user_client",
    "get_user_meeting",
    "insert_meeting_once",
    "is_suppressed",
    "list_deliveries",
    "list_events",
    "list_usage",
    "list_user_clients",
    "list_user_meetings",
    "mark_delivery_sent",
    "moved_by_transcript",
    "record_delivery_event",
    "record_send_event",
    "record_unsent_delivery",
    "refresh_costs",
    "release_delivery",
    "release_submission",
    "rename_client",
    "save_acta",
    "save_transcript",
    "spend_since",
    "suppress_email",
    "take_over_stale_delivery",
    "transition",
    "user_cost_summary",
    "user_for_caller",
    "user_totals",
]
