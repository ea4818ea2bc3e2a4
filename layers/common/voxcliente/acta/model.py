"""The acta (formal meeting minutes) as the model must write it.

The shape follows the sections of docs/acta-standard.md. It is used as the
OpenAI Structured Outputs schema (strict mode: every field is required, absent
values are ``null`` or empty lists, no defaults), stored as JSONB in
``actas.content``, and rendered into the email, the .docx and the plain text.

Field order matters: a strict structured output is written in schema order, so
the details, people, discussion and agreements come first and the ``title``
and ``summary`` that describe them come last, written once the model has
written what they summarise. The agenda is not asked for: it is the topics'
titles (:attr:`Acta.agenda`), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Participant(_Strict):
    speaker_label: str | None = Field(
        description="Speaker label from the transcript (A, B, ...), or null if not a speaker."
    )
    name: str = Field(
        description="Name and surname as stated in the conversation; if never stated, the "
        "word for 'Participant' and the speaker label, without an article. Never invented."
    )
    role: str | None = Field(description="Role or position, only if stated.")
    organization: str | None = Field(
        description="Organisation, if stated; a colleague introduced by a speaker "
        "belongs to that speaker's organisation."
    )


class Topic(_Strict):
    title: str = Field(description="The topic in a few words; the titles, in order, head the acta.")
    summary: str = Field(
        description="What was said about it, offers and counter-offers included: a short "
        "paragraph, third person, past tense."
    )


class ActionItem(_Strict):
    task: str = Field(description="What must be done: one sentence starting with an infinitive.")
    owner: str | None = Field(
        description="The person who took the task on or was assigned it, named as in "
        "participants; null if nobody did."
    )
    due_date: str | None = Field(
        description="The deadline as stated, relative ones included; null if none was said."
    )


class NextMeeting(_Strict):
    date: str | None = Field(description="Its date as spoken, only if agreed.")
    time: str | None = Field(description="Its time as hh:mm, only if agreed.")
    modality: str | None = Field(
        description="How it will be held (in person, video call), only if agreed."
    )
    purpose: str | None = Field(description="Its purpose, only if stated.")


class Acta(_Strict):
    language: str = Field(description="ISO 639-1 code of the language the acta is written in.")
    meeting_date: str | None = Field(
        description="Date of this meeting, if given in the details or said in the recording."
    )
    start_time: str | None = Field(
        description="Clock time (hh:mm) this meeting started, only if said in the recording."
    )
    end_time: str | None = Field(
        description="Clock time (hh:mm) this meeting ended, only if said in the recording."
    )
    modality: str | None = Field(
        description="How this meeting is held (in person, video call, phone), only if said; "
        "never the next meeting's."
    )
    place: str | None = Field(description="Where this meeting is held, only if said.")
    client: str | None = Field(description="The client organisation, if known.")
    participants: list[Participant] = Field(
        description="The people present, once each: every speaker and anyone introduced."
    )
    topics: list[Topic] = Field(description="The topics in the order they came up.")
    decisions: list[str] = Field(
        description="What was agreed, each one sentence that stands on its own, starting "
        "with the agreement phrase; not tasks, the next meeting or open topics."
    )
    action_items: list[ActionItem] = Field(description="The tasks someone must do.")
    open_questions: list[str] = Field(description="Raised and not resolved.")
    next_meeting: NextMeeting | None
    title: str = Field(
        description="Written last, from the above: the meeting's subject in a few words "
        "(the software adds the word for 'minutes')."
    )
    summary: str = Field(
        description="Written last, from the above: two or three sentences, what the meeting "
        "was about and its outcome."
    )

    @property
    def agenda(self) -> list[str]:
        """The agenda: the topics' titles, in the order they came up."""
        return [topic.title for topic in self.topics]

    @classmethod
    def from_stored(cls, content: dict[str, Any]) -> Acta:
        """An acta read back from ``actas.content``, whichever schema version wrote it.

        Actas stored before the agenda became the topics' titles carry an
        ``agenda`` list and lack ``place`` and the next meeting's ``time`` and
        ``modality``: those read as the same acta with the new fields null.
        """
        data = {key: value for key, value in content.items() if key != "agenda"}
        data.setdefault("place", None)
        upcoming = data.get("next_meeting")
        if isinstance(upcoming, dict):
            data["next_meeting"] = {"time": None, "modality": None, **upcoming}
        return cls.model_validate(data)
