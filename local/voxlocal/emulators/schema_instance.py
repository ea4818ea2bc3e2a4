"""A deterministic JSON-schema instance generator fed by a meeting transcript.

The OpenAI emulator uses it to answer Structured Outputs requests with a value
that is valid for the schema sent (every ``properties`` key present, as strict
mode requires; ``$defs``/``$ref`` resolved; ``anyOf`` with ``null`` taking the
non-null branch unless the field is a date or time the transcript never
mentions) and plausibly filled from the transcript: strings are its sentences,
speakers are named as they introduce themselves ("Soy <Name>, <role> de <Org>",
"I'm <Name>, <role> at <Org>") or else ``Participante A``/``Participant A``,
dates are the dates it mentions, the agenda is the enumerated topics ("Tenemos
dos temas: X y Y"), the ``title`` joins them (or names the first substantive
sentence's subject), the summary says what was reviewed and agreed. Same schema
and text, same value.

It does not understand the meeting; it only has to be valid, stable and
recognisably derived from the input.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 12

_SPEAKER_LINE = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:(?:speaker|hablante|participante|participant|orador)\s+)?"
    r"([A-Z])\s*(?:\([^)]*\))?\s*[:\-\u2013]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?¿¡…])\s+|\n+")
_MONTHS_ES = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
_MONTHS_EN = "january february march april may june july august september october november december"
_DATE_ES = re.compile(
    r"\b(\d{1,2}) de (" + _MONTHS_ES.replace(" ", "|") + "|setiembre" + r")(?: de(?:l)? (\d{4}))?",
    re.IGNORECASE,
)
_DATE_EN = re.compile(
    r"\b(" + _MONTHS_EN.replace(" ", "|") + r") (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?",
    re.IGNORECASE,
)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b")
_YEAR = re.compile(r"\b(20\d{2})\b")
_ORG = re.compile(r"\b[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?:\s+(?:de\s+)?[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)+")
_GREETING = re.compile(
    r"^(?:buen[oa]s|hola|soy|me llamo|mi nombre|gracias|good|hello|hi|i am|i'm|my name|thank)\b",
    re.IGNORECASE,
)
DEFAULT_YEAR = 2026

_CAP_WORD = r"[A-ZÁÉÍÓÚÑ][\wáéíóúñ'-]+"
_INTRO = re.compile(
    r"\b(?i:soy|me llamo|mi nombre es|i am|i'm|my name is|this is)\s+"
    rf"(?P<name>{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,2}})"
    r"(?:,\s*(?:(?i:the\s+)?(?P<role>[^,.;]+?)\s+)?(?i:de|del|en|at|of|from|with)\s+"
    rf"(?P<org>{_CAP_WORD}(?:\s+(?:de\s+)?{_CAP_WORD})*))?"
)
_AGENDA = re.compile(
    r"\b(?:temas?|puntos?|asuntos?|topics?|items?|points?|agenda|orden del d[ií]a)\b"
    r"[^:.?]*:\s*(.+)",
    re.IGNORECASE,
)
_ITEM_SPLIT = re.compile(r"\s*(?:[,;]|\by\b|\be\b|\band\b)\s*", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:el|la|los|las|un|una|the|a|an)\s+", re.IGNORECASE)
_LEADING = re.compile(
    rf"^(?:(?:hoy|today|ahora|now|bueno|well|so|entonces|ok|okay)\b|{_DATE_ES.pattern}"
    rf"|{_DATE_EN.pattern}|[,\s])+",
    re.IGNORECASE,
)
_FIRST_VERB = re.compile(
    r"^(?:\w+(?:amos|emos|imos)\b|(?:we|i)(?:'ll| will| are going to| want to)?\s+\w+)\s+",
    re.IGNORECASE,
)
_NEXT_MEETING = re.compile(
    r"reun\w* (?:de nuevo|otra vez|nuevamente)|volve\w* a reunir|pr[oó]xima reuni[oó]n"
    r"|meet again|next meeting|follow-up meeting",
    re.IGNORECASE,
)
_AGREED = re.compile(
    r"(?:^|[,;]\s*)(?:se acuerda|acordamos|se decide|decidimos|quedamos en"
    r"|we (?:agree|agreed|decide|decided)|it is agreed)(?:\s+(?:to|that))?\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_PENDING = re.compile(
    r"^(?:quedan? pendientes?|sigue pendiente|falta definir|still open:?|pending:?)\s+(?P<a>.+)"
    r"|^(?P<b>.+?)\s+(?:queda pendiente|sigue pendiente|(?:is|are) still (?:open|pending))\b",
    re.IGNORECASE,
)
_PURPOSE = re.compile(r"\b(?:para|to)\s+(?P<verb>\w+?)(?P<pron>l[oa]s?)?(?P<rest>(?:\s.*)?)$")
_STOPWORDS = frozenset(["para", "sobre", "desde", "with", "from", "about"])  # > 3 letters


@dataclass(frozen=True)
class Intro:
    """What a speaker said of themselves: name, and role and organisation when stated."""

    name: str
    role: str | None
    organisation: str | None


def find_intros(lines: list[tuple[str, str]]) -> dict[str, Intro]:
    """The first self-introduction of each speaker label."""
    intros: dict[str, Intro] = {}
    for speaker, line in lines:
        match = _INTRO.search(line)
        if speaker and speaker not in intros and match:
            role = (match.group("role") or "").strip() or None
            intros[speaker] = Intro(match.group("name"), role, match.group("org"))
    return intros


def find_agenda(sentences: list[str]) -> tuple[list[str], str | None]:
    """Enumerated topics ("two topics: X and Y"), with their articles, and the sentence."""
    for sentence in sentences:
        match = _AGENDA.search(sentence)
        if match:
            items = [i.strip(" .!?") for i in _ITEM_SPLIT.split(match.group(1))]
            if items := [i for i in items if i]:
                return items, sentence
    return [], None


def _subject(sentence: str) -> str:
    """The noun phrase a sentence is about: leading greetings, dates and verb removed."""
    rest = _LEADING.sub("", sentence.rstrip(".!?…"))
    rest = _FIRST_VERB.sub("", rest) or rest
    return rest.split(",")[0].strip()


def _join(items: list[str], language: str) -> str:
    """ "a, b y c" / "a, b and c"."""
    last = f"{' and ' if language == 'en' else ' y '}{items[-1]}" if len(items) > 1 else items[-1]
    return ", ".join(items[:-1]) + last


def _bare(phrase: str) -> str:
    text = _ARTICLE.sub("", phrase)
    return text[:1].upper() + text[1:]


def _stems(text: str) -> set[str]:
    words = re.findall(r"\w+", normalise(text))
    return {w[:6] for w in words if len(w) > 3 and w not in _STOPWORDS}


# Field names (normalised: lower case, no accents) and the pool that fills them.
_POOL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("decision", re.compile(r"decision|acuerdo|agreement|resolution")),
    ("action", re.compile(r"action|task|tarea|accion|todo|compromiso")),
    ("question", re.compile(r"question|pregunta|pendiente|open|issue|duda")),
)
_POOL_SENTENCES = {
    "decision": re.compile(r"acuerd|decid|agree|decide|aprob", re.IGNORECASE),
    "action": re.compile(
        r"encarg|envi[aoé]|prepar|confirm|will|send|must|debe|responsable",
        re.IGNORECASE,
    ),
    "question": re.compile(
        r"\?|pendiente|no (?:está|esta) claro|open question|still open|unclear", re.I
    ),
}


def normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@dataclass
class TranscriptFacts:
    """What the generator takes from the transcript text."""

    sentences: list[str]
    speakers: list[str]
    dates: list[tuple[str, str]]  # (as written, ISO)
    times: list[str]
    organisations: list[str]  # most mentioned first
    language: str
    sentence_speakers: dict[str, str] = field(default_factory=dict)
    intros: dict[str, Intro] = field(default_factory=dict)
    agenda: list[str] = field(default_factory=list)  # enumerated topics, as said
    agenda_sentence: str | None = None

    @classmethod
    def from_text(cls, text: str) -> TranscriptFacts:
        text = data_text(text)
        lines = [(m.group(1).upper(), m.group(2)) for m in _SPEAKER_LINE.finditer(text)]
        if len(lines) < 2:
            lines = [("", text)]
        spoken = "\n".join(line for _, line in lines)
        sentences: list[str] = []
        sentence_speakers: dict[str, str] = {}
        for speaker, line in lines:
            for piece in _SENTENCE_END.split(line):
                sentence = piece.strip(" \t-\u2013\"'")
                if len(sentence.split()) >= 3:
                    sentences.append(sentence)
                    if speaker:
                        sentence_speakers.setdefault(sentence, speaker)
        speakers: list[str] = []
        for speaker, _ in lines:
            if speaker and speaker not in speakers:
                speakers.append(speaker)
        language = detect_language(spoken)
        agenda, agenda_sentence = find_agenda(sentences)
        intros = find_intros(lines)
        names = {intro.name for intro in intros.values()}
        host = intros[lines[0][0]].organisation if lines[0][0] in intros else None
        return cls(
            sentences=sentences or ["Sin contenido."],
            speakers=speakers or ["A"],
            dates=find_dates(spoken),
            times=[f"{int(h):02d}:{m}" for h, m in _TIME.findall(spoken)],
            organisations=_organisations(spoken, names, host),
            language=language,
            sentence_speakers=sentence_speakers,
            intros=intros,
            agenda=agenda,
            agenda_sentence=agenda_sentence,
        )

    @property
    def topics(self) -> list[str]:
        """The enumerated topics, or else sentences long enough to be about something."""
        if self.agenda:
            return [_bare(item) for item in self.agenda]
        long = [s for s in self.substantive if len(s.split()) >= 6] or self.sentences
        return [_shorten(s, 12) for s in long]

    @property
    def substantive(self) -> list[str]:
        """Sentences that are neither greetings nor introductions."""
        return [s for s in self.sentences if not _GREETING.match(s) and not _INTRO.search(s)]

    @property
    def title(self) -> str:
        """The enumerated topics joined, or the subject of the first substantive sentence."""
        if self.agenda:
            return _bare(_join([_ARTICLE.sub("", item) for item in self.agenda], self.language))
        sentence = next((s for s in self.substantive if len(s.split()) >= 4), self.sentences[0])
        return _shorten(_bare(_subject(sentence)) or sentence, 8)

    def about(self, topic: str) -> list[str]:
        """Sentences mentioning ``topic`` (those after the agenda sentence first)."""
        stems = _stems(topic)
        start = self.sentences.index(self.agenda_sentence) + 1 if self.agenda_sentence else 0
        for pool in (self.sentences[start:], self.sentences):
            found = [s for s in pool if s != self.agenda_sentence and stems & _stems(s)]
            if found:
                return found
        return []

    @property
    def next_meeting(self) -> str | None:
        return next((s for s in self.sentences if _NEXT_MEETING.search(s)), None)


_TAGGED_BLOCK = re.compile(r"<([A-Za-z_][\w-]*)>(.*?)</\1>", re.DOTALL)


def data_text(text: str) -> str:
    """The data part of a prompt: the contents of ``<tag>...</tag>`` blocks when there are any.

    Prompts commonly fence the transcript (or earlier JSON results) in tags and
    surround it with instructions; only the fenced data should feed the answer.
    A block holding JSON contributes its string values, one per line.
    """
    blocks = [body.strip() for _, body in _TAGGED_BLOCK.findall(text)]
    if not blocks:
        return text
    parts: list[str] = []
    for body in blocks:
        try:
            parts.extend(_strings(json.loads(body)))
        except ValueError:
            parts.append(body)
    return "\n".join(parts)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


_SPANISH_WORDS = frozenset(["el", "la", "de", "que", "se", "los", "las", "y", "para", "con"])
_ENGLISH_WORDS = frozenset(["the", "and", "of", "to", "is", "we", "for", "with", "that"])


_SPANISH_WORDS = frozenset(["el", "la", "de", "que", "se", "los", "las", "y", "para", "con"])
_ENGLISH_WORDS = frozenset(["the", "and", "of", "to", "is", "we", "for", "with", "that"])


def detect_language(text: str) -> str:
    words = re.findall(r"[a-záéíóúñ]+", text.lower())
    spanish = sum(
        w in {"el", "la", "de", "que", "se", "los", "las", "y", "para", "con"} for w in words
    )
    english = sum(w in {"the", "and", "of", "to", "is", "we", "for", "with", "that"} for w in words)
    return "en" if english > spanish else "es"


def find_dates(text: str) -> list[tuple[str, str]]:
    years = _YEAR.findall(text)
    default_year = int(years[0]) if years else DEFAULT_YEAR
    found: list[tuple[int, str, str]] = []
    for m in _DATE_ES.finditer(text):
        month_name = normalise(m.group(2)).replace("setiembre", "septiembre")
        month = _MONTHS_ES.split().index(month_name) + 1
        year = int(m.group(3)) if m.group(3) else default_year
        found.append((m.start(), m.group(0), _iso(year, month, int(m.group(1)))))
    for m in _DATE_EN.finditer(text):
        month = _MONTHS_EN.split().index(m.group(1).lower()) + 1
        year = int(m.group(3)) if m.group(3) else default_year
        found.append((m.start(), m.group(0), _iso(year, month, int(m.group(2)))))
    for m in _DATE_ISO.finditer(text):
        found.append((m.start(), m.group(0), m.group(0)))
    return [(written, iso) for _, written, iso in sorted(found) if iso]


def _iso(year: int, month: int, day: int) -> str:
    if not 1 <= day <= 31:
        return ""
    return f"{year:04d}-{month:02d}-{day:02d}"


def _organisations(text: str, people: set[str], host: str | None) -> list[str]:
    """Runs of capitalised words that do not open a sentence ("Textiles Andinos").

    The most mentioned come first (the client is usually named more than once),
    then those not of the first speaker (who records the meeting with the client).
    People who introduce themselves are not organisations.
    """
    found = []
    for m in _ORG.finditer(text):
        before = text[: m.start()].rstrip(" \t\"'«")
        if before and before[-1] not in ".!?¿¡:\n" and m.group(0) not in people:
            found.append(m.group(0))
    return sorted(
        _unique(found), key=lambda name: (-found.count(name), name == host, found.index(name))
    )


def _unique(items: Any) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


_TRAILING_WORDS = frozenset(
    ["el", "la", "los", "las", "de", "del", "y", "a", "en", "con", "the", "of", "and", "to"]
)


def _shorten(sentence: str, words: int) -> str:
    parts = sentence.rstrip(".!?…").split()[:words]
    while len(parts) > 1 and parts[-1].lower().strip(",;:") in _TRAILING_WORDS:
        parts.pop()
    text = " ".join(parts).rstrip(",;:")
    return text[:1].upper() + text[1:]


@dataclass
class _Cursor:
    counters: dict[str, int] = field(default_factory=dict)

    def take(self, pool: str, items: list[str]) -> str:
        index = self.counters.get(pool, 0)
        self.counters[pool] = index + 1
        return items[index % len(items)]


class InstanceGenerator:
    """``InstanceGenerator(schema, text).generate()`` -> a value valid for ``schema``."""

    def __init__(self, schema: dict[str, Any], text: str) -> None:
        self.root = schema
        self.facts = TranscriptFacts.from_text(text)
        self.cursor = _Cursor()
        # The sentence last put in this object: an owner or a due date next to a
        # task comes from it (who said it, the date it mentions).
        self._context: str | None = None
        # The speaker label of the person the current object describes (a
        # participant, a task's owner): its name, role and organisation agree.
        self._who: str | None = None
        self._in_person = False

    def generate(self) -> Any:
        return self._value(self.root, name="", depth=0)

    # --- schema plumbing ------------------------------------------------------------

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            ref = str(schema["$ref"])
            if not ref.startswith("#"):
                raise ValueError(f"only local $ref are supported, got {ref!r}")
            target: Any = self.root
            for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings}
            seen += 1
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                resolved = self._resolve(part)
                for key, value in resolved.items():
                    if key == "properties":
                        merged.setdefault("properties", {}).update(value)
                    elif key == "required":
                        merged["required"] = _unique([*merged.get("required", []), *value])
                    else:
                        merged.setdefault(key, value)
            schema = merged
        return schema

    def _value(self, schema: Any, *, name: str, depth: int) -> Any:
        if schema is True or schema == {}:
            return self._string({}, name, depth=depth)
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [self._resolve(b) for b in schema[key]]
                non_null = [b for b in branches if not _is_null(b)]
                may_be_null = len(non_null) < len(branches)
                if not non_null or (may_be_null and self._prefers_null(name, depth)):
                    return None
                base = {k: v for k, v in schema.items() if k != key}
                return self._value({**base, **non_null[0]}, name=name, depth=depth)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        kind = self._kind(schema, name, depth)
        if kind == "null":
            return None
        builders: dict[str, Callable[[], Any]] = {
            "object": lambda: self._object(schema, name, depth),
            "array": lambda: self._array(schema, name, depth),
            "boolean": lambda: False,
            "integer": lambda: self._number(schema, "integer"),
            "number": lambda: self._number(schema, "number"),
        }
        builder = builders.get(kind)
        return builder() if builder else self._string(schema, name, depth=depth)

    def _kind(self, schema: dict[str, Any], name: str, depth: int) -> str:
        """The JSON type to produce; ``null`` for a nullable field better left empty."""
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null_kinds = [k for k in kind if k != "null"]
            if not non_null_kinds or ("null" in kind and self._prefers_null(name, depth)):
                return "null"
            kind = non_null_kinds[0]
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        return "array" if "items" in schema else "string"

    def _prefers_null(self, name: str, depth: int) -> bool:
        """Null for what the transcript does not say (dates, times, modality), and when too deep."""
        if depth >= MAX_DEPTH:
            return True
        field_kind = _field_kind(name)
        facts = self.facts
        if field_kind == "date":
            return not facts.dates
        if field_kind == "time":
            return not facts.times
        if field_kind in ("organisation", "role") and self._in_person:
            intro = facts.intros.get(self._person())
            return not (intro and getattr(intro, field_kind))
        if field_kind == "organisation":
            return not facts.organisations
        if field_kind in ("next", "purpose"):
            return facts.next_meeting is None
        return field_kind in ("modality", "role")

    def _person(self) -> str:
        """The current person's speaker label: who said the sentence in context, else the next."""
        if self._who is None:
            said_by = self.facts.sentence_speakers.get(self._context or "")
            self._who = said_by or self.cursor.take("name", self.facts.speakers)
        return self._who

    # --- values -------------------------------------------------------------------

    def _object(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties") or {}
        outer = self._context, self._who, self._in_person  # restored after
        if any(_field_kind(key) in ("name", "speaker") for key in properties):
            self._who, self._in_person = None, True  # a person: decided by its first field
        if _field_kind(name) == "next":
            self._context = self.facts.next_meeting  # its date and purpose come from there
        value = {
            key: self._value(sub, name=key, depth=depth + 1) for key, sub in properties.items()
        }
        self._context, self._who, self._in_person = outer
        return value

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        if depth >= MAX_DEPTH:
            return []
        items = schema.get("items", {})
        field_kind = _field_kind(name)
        if field_kind in ("participants", "name"):
            count = len(self.facts.speakers)
        elif field_kind in _POOL_SENTENCES:
            count = len(self._pool(field_kind))
        elif field_kind in ("agenda", "title"):
            count = len(self.facts.topics)
        else:
            count = max(1, len(self.facts.sentences) // 4)
        count = min(3, max(1, count))
        count = max(int(schema.get("minItems", 0)), count)
        if "maxItems" in schema:
            count = min(int(schema["maxItems"]), count)
        # Array items take their name from the array (decisions -> each decision).
        outer, values = (self._context, self._who), []
        for _ in range(count):
            self._context, self._who = outer  # each item starts afresh, not from its sibling
            values.append(self._value(items, name=name, depth=depth + 1))
        self._context, self._who = outer
        return values

    def _number(self, schema: dict[str, Any], kind: str) -> int | float:
        value: float = 1
        if "minimum" in schema:
            value = max(value, float(schema["minimum"]))
        if "exclusiveMinimum" in schema:
            value = max(value, float(schema["exclusiveMinimum"]) + 1)
        if "maximum" in schema:
            value = min(value, float(schema["maximum"]))
        return int(value) if kind == "integer" else float(value)

    def _pool(self, kind: str) -> list[str]:
        pattern = _POOL_SENTENCES.get(kind)
        if pattern is None:
            return self.facts.sentences
        return [s for s in self.facts.sentences if pattern.search(s)] or self.facts.sentences

    def _string(self, schema: dict[str, Any], name: str, *, depth: int = 0) -> str:
        field_kind = _field_kind(name)
        value = self._formatted(schema.get("format"), field_kind)
        if value is None:
            value = self._named(field_kind, depth)
        if "maxLength" in schema:
            value = value[: int(schema["maxLength"])]
        if "minLength" in schema and len(value) < int(schema["minLength"]):
            value = value.ljust(int(schema["minLength"]), ".")
        return value

    def _formatted(self, fmt: str | None, field_kind: str) -> str | None:
        """Strings whose shape is fixed by ``format`` or by being a date or time."""
        facts = self.facts
        if fmt == "date" or (field_kind == "date" and fmt is None):
            if not facts.dates:
                return f"{DEFAULT_YEAR}-01-01" if fmt == "date" else _no_date(facts.language)
            in_context = [d for d in facts.dates if _mentions(self._context, d[0])]
            if in_context:
                written, iso = in_context[0]
                return iso if fmt == "date" else written
            index = self.cursor.counters.get("date", 0)
            self.cursor.counters["date"] = index + 1
            written, iso = facts.dates[index % len(facts.dates)]
            return iso if fmt == "date" else written
        if fmt == "date-time":
            iso = facts.dates[0][1] if facts.dates else f"{DEFAULT_YEAR}-01-01"
            return f"{iso}T{facts.times[0] if facts.times else '09:00'}:00Z"
        if fmt == "time" or field_kind == "time":
            value = self.cursor.take("time", facts.times) if facts.times else "09:00"
            return value + ":00" if fmt == "time" else value
        return {
            "email": "participante@example.com",
            "uuid": "00000000-0000-4000-8000-000000000000",
        }.get(fmt or "")

    def _named(self, field_kind: str, depth: int) -> str:
        """Strings chosen by what the field is called."""
        facts = self.facts
        if field_kind == "language":
            return facts.language
        if field_kind == "speaker":
            return self._person()
        if field_kind in ("name", "participants"):
            label = self._person()
            intro = facts.intros.get(label)
            if intro:
                return intro.name
            return f"{'Participant' if facts.language == 'en' else 'Participante'} {label}"
        if field_kind == "title" and depth <= 1:
            return facts.title
        if field_kind in ("title", "agenda"):
            self._context = self.cursor.take(field_kind, facts.topics)  # a topic's summary
            return self._context
        if field_kind in ("organisation", "role") and self._in_person:
            intro = facts.intros.get(self._person())
            if intro and getattr(intro, field_kind):
                return str(getattr(intro, field_kind))
        if field_kind == "organisation" and facts.organisations:
            return facts.organisations[0]
        if field_kind in ("organisation", "modality", "role"):
            return "Not stated" if facts.language == "en" else "No indicado"
        if field_kind == "purpose" and facts.next_meeting:
            return self._purpose(facts.next_meeting)
        if field_kind == "summary" and depth <= 1:
            return self._meeting_summary()
        about = facts.about(self._context) if self._context in facts.topics else []
        if field_kind == "summary" and about:
            return " ".join(_sentence(s) for s in about[:2])
        if field_kind == "summary":
            first = self.cursor.take("summary", facts.sentences)
            second = self.cursor.take("summary", facts.sentences)
            return (
                _sentence(first) if first == second else f"{_sentence(first)} {_sentence(second)}"
            )
        pool = field_kind if field_kind in _POOL_SENTENCES else "sentence"
        self._context = self.cursor.take(pool, self._pool(pool))
        return _sentence(self._context)

    def _meeting_summary(self) -> str:
        """What was reviewed (the agenda, or the title) and the first agreement."""
        facts, english = self.facts, self.facts.language == "en"
        subject = _join(facts.agenda, facts.language) if facts.agenda else facts.title
        if english:
            parts = [f"The meeting reviewed {subject[:1].lower()}{subject[1:]}."]
        else:
            verb = "Se revisaron" if len(facts.agenda) > 1 else "Se revisó"
            parts = [f"{verb} {subject[:1].lower()}{subject[1:]}."]
        agreed = [m for s in facts.sentences if (m := _AGREED.search(s))]
        if agreed:
            rest = agreed[0].group("rest").rstrip(".!")
            parts.append(f"It was agreed to {rest}." if english else f"Se acordó {rest}.")
        return " ".join(parts)

    def _purpose(self, sentence: str) -> str:
        """The "para ..."/"to ..." of the next-meeting sentence ("lo"/"it": the first pending)."""
        match = _PURPOSE.search(sentence.rstrip(".!"))
        if not match:
            return _sentence(_LEADING.sub("", sentence))
        facts = self.facts
        pending = [
            m.group("a") or m.group("b") for s in facts.sentences if (m := _PENDING.match(s))
        ]
        if (match.group("pron") or match.group("rest").strip() in ("it", "them")) and pending:
            thing = pending[0].rstrip(".!?")
            return _sentence(f"{match.group('verb')} {thing[:1].lower()}{thing[1:]}")
        return _sentence(sentence.rstrip(".!")[match.start("verb") :])


def _mentions(text: str | None, written: str) -> bool:
    """``written`` (a date) occurs in ``text`` as a whole ("March 1" is not in "March 10")."""
    return bool(text and re.search(rf"(?<!\d){re.escape(written)}(?!\d)", text))


def _is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("const", 0) is None


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[-1] not in ".!?…":
        text += "."
    return text[:1].upper() + text[1:]


def _no_date(language: str) -> str:
    return "No date set" if language == "en" else "Sin fecha definida"


_FIELD_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("speaker", re.compile(r"speaker|hablante|label")),
    ("date", re.compile(r"date|fecha|deadline|due|plazo|\bdia\b|\bday\b|when|cuando")),
    ("time", re.compile(r"time|hora")),
    ("next", re.compile(r"^(next|proxima|siguiente)")),
    ("language", re.compile(r"^(language|lang|idioma|lengua|language_code|locale)$")),
    ("participants", re.compile(r"participant|attendee|asistente|participante")),
    ("name", re.compile(r"name|nombre|owner|responsable|assignee|who|quien")),
    ("title", re.compile(r"title|titulo|asunto|subject|heading|topic_name")),
    ("agenda", re.compile(r"agenda|orden|temas|topics")),
    ("organisation", re.compile(r"organi[sz]ation|organizacion|company|empresa|client|cliente")),
    ("modality", re.compile(r"modality|modalidad|format|location|lugar")),
    ("role", re.compile(r"^(role|rol|cargo|position|puesto)$")),
    ("purpose", re.compile(r"purpose|objetivo|proposito|motivo|^goal|^aim$")),
    ("summary", re.compile(r"summary|resumen|desarrollo|discussion|overview|description")),
    *_POOL_PATTERNS,
)


def _field_kind(name: str) -> str:
    key = normalise(name)
    for kind, pattern in _FIELD_KINDS:
        if pattern.search(key):
            return kind
    return ""


def generate_instance(schema: dict[str, Any], text: str) -> Any:
    """A value valid for ``schema``, derived deterministically from ``text``."""
    return InstanceGenerator(schema, text).generate()
