"""The acta (formal meeting minutes) as the model must write it.

The shape follows the sections of docs/acta-standard.md, in order. It is used as the OpenAI
Structured Outputs schema (strict mode: every field is required, absent values
are ``null`` or empty lists, no defaults), stored as JSONB in ``actas.content``,
and rendered into the email, the .docx and the plain text.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Participant(_Strict):
    speaker_label: str | None = Field(
        description="Speaker label from the transcript (A, B, ...), or null if not a speaker."
    )
    name: str = Field(
        description="Name exactly as stated in the conversation; if never stated, "
        "'Participante A' / 'Participant A' after the speaker label. Never invented."
    )
    role: str | None = Field(description="Role or position, only if stated.")
    organization: str | None = Field(description="Organisation, only if stated.")


class Topic(_Strict):
    title: str = Field(description="The topic, in a few words.")
    summary: str = Field(
        description="What was said about it: a short paragraph, third person, past tense."
    )


class ActionItem(_Strict):
    task: str = Field(description="What must be done, as one sentence.")
    owner: str | None = Field(description="Who is responsible, only if stated.")
    due_date: str | None = Field(
        description="Deadline exactly as stated (written in the acta's language), or null."
    )


class NextMeeting(_Strict):
    date: str | None = Field(description="Date (and time) as agreed, or null.")
    purpose: str | None = Field(description="Purpose, if stated.")


class Acta(_Strict):
    language: str = Field(description="ISO 639-1 code of the language the acta is written in.")
    title: str = Field(description="The meeting's subject in a few words (without 'Acta de').")
    meeting_date: str | None = Field(
        description="Date of the meeting if stated in the recording or given, else null."
    )
    start_time: str | None = Field(description="Start time, only if known from the recording.")
    end_time: str | None = Field(description="End time, only if known from the recording.")
    modality: str | None = Field(
        description="In person / video call, only if said in the conversation."
    )
    client: str | None = Field(description="The client organisation, if known.")
    summary: str = Field(
        description="Two or three sentences: what the meeting was about and its outcome."
    )
    participants: list[Participant]
    agenda: list[str] = Field(description="The topics, in the order they came up.")
    topics: list[Topic] = Field(description="Discussion per topic, same order as the agenda.")
    decisions: list[str] = Field(
        description="Decisions and agreements, each one self-standing sentence ('Se acuerda ...')."
    )
    action_items: list[ActionItem]
    open_questions: list[str] = Field(description="Raised and not resolved.")
    next_meeting: NextMeeting | None
