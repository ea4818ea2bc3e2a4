"""The dates, times, amounts and names a Spanish text mentions, as comparable values.

The "facts invented" check extracts these from the transcript (and the
meeting details) and from the acta, and reports every mention of the acta
that the transcript does not support. Each extractor returns what it read as
written (after number words became digits) and a value to compare:

* a date is the set of its parts (weekday, day, month, year). An acta's date is
  supported when some date of the transcript has every one of its parts: "el
  jueves 12" supports "jueves 12" and "12"; it does not support "jueves 12 de
  agosto" (a month added) nor "12 de agosto de 2027" (a year added);
* a time is (hour, minute), "10:30" and "a las diez y media" alike ("son las
  nueve en punto", "y cuarto", "menos cuarto", "mediodía" read too); an hour
  read without "de la tarde" also matches the same hour + 12;
* an amount is (value, unit): "16.000 euros", "16.000 €" and "dieciséis mil
  euros" are (16000, EUR); "12 %" is (12, %). A bare number joined by "y"/"o"/
  "a" to an amount takes its unit ("entre 10 y 12 euros"); one left behind by a
  self-correction ("17.000, perdón, 18.000 euros") has none, so an acta writing
  "17.000 euros" is not supported by it;
* a name is a run of capitalised words ("Laura Méndez", "Grupo Hostelero
  Alcázar"). Spanish capitalises the first word of every sentence, so a lone
  capitalised word there ("Enviar", "Se acuerda") is not taken for a name;
  leading articles and prepositions are dropped ("El Participante C", "Según
  Laura"), and speaker labels ("Participante C") are not names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from voxcliente.locales import all_locales
from voxlocal.evaluation.spanish import fold, parse_number, words_to_digits

MONTHS = [*all_locales()["es"].months]
WEEKDAYS = ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"]
_MONTH_NUMBER = {fold(name): number for number, name in enumerate(MONTHS, start=1)}
_MONTH_NUMBER["setiembre"] = 9

_MON = "|".join(_MONTH_NUMBER)
_WD = "|".join(WEEKDAYS)
_DATE = re.compile(
    rf"(?:\b(?P<wd1>{_WD}),?\s+(?:(?:el\s+)?dia\s+)?)?\b(?:dia\s+)?(?P<d1>\d{{1,2}})\s+de\s+"
    rf"(?P<m1>{_MON})\b(?:\s+(?:de|del)\s+(?:ano\s+)?(?P<y1>\d{{4}})\b)?"
    rf"|\b(?P<m2>{_MON})\s+(?:de|del)\s+(?:ano\s+)?(?P<y2>\d{{4}})\b"
    rf"|\b(?P<wd3>{_WD}),?\s+(?:dia\s+)?(?P<d3>\d{{1,2}})\b(?![:.,]\d|\s*(?:%|horas?\b))"
    rf"|\b(?:el|del|dia)\s+(?P<d4>\d{{1,2}})\b(?![:.,]\d|\s*(?:%|por ciento|horas?\b|de\s+\w))"
    rf"|\b(?P<d7>\d{{1,2}})/(?P<m7>\d{{1,2}})(?:/(?P<y7>\d{{4}}|\d{{2}}))?(?![\d/])"
    rf"|\b(?P<y8>\d{{4}})-(?P<m8>\d{{2}})-(?P<d8>\d{{2}})\b"
    rf"|\b(?P<wd5>{_WD})s?\b"
    rf"|\b(?P<m6>{_MON})\b"
    rf"|(?<![\d.,:])(?P<y9>(?:19|20)\d\d)(?![\d:]|[.,]\d)"
)
_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_UNIT = r"€|euros?\b|eur\b|dolares\b|dolar\b|usd\b|us\$|\$|pesos\b|soles\b|libras\b|%|por ciento\b"
_AMOUNT = re.compile(
    rf"(?<![\d.,])(?P<n1>{_NUM})(?![\d])\s*(?:de\s+)?(?P<u1>{_UNIT})"
    rf"|(?P<u2>€|us\$|\$|usd\b|eur\b)\s*(?P<n2>{_NUM})(?![\d])"
)
_LIST_JOIN = re.compile(rf"(?<![\d.,])(?P<n>{_NUM})\s*(?:y|o|a|-)\s*$")
_CURRENCY = {"€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR", "%": "%", "por ciento": "%"}
_CURRENCY |= {"dolares": "USD", "dolar": "USD", "usd": "USD", "us$": "USD", "$": "USD"}
_H = r"[01]?\d|2[0-3]"
_TIME = re.compile(
    rf"(?<![\d:.,])(?P<h1>{_H}):(?P<m1>[0-5]\d)(?!\d)"
    rf"|(?<![\d:.,])(?P<h2>{_H})[.h](?P<m2>[0-5]\d)\s*(?:h|horas|hrs)\b"
    rf"|\b(?:a|sobre|hacia|desde|hasta|de|entre|y|son|es|eran|era)\s+las?\s+(?P<h3>{_H})"
    r"(?![\d:]|[.,]\d)(?!\s+(?!y\b|o\b|a\b|menos\b|de\b|en\b|h\b|horas?\b|del mediodia)[a-z])"
    r"(?:\s+y\s+(?P<plus>media|cuarto|\d{1,2})|\s+menos\s+(?P<minus>cuarto|\d{1,2}))?"
    r"(?:\s+(?:en punto\s+)?(?:de\s+la\s+(?P<half>manana|tarde|noche)|del\s+(?P<noon>mediodia)))?"
    r"|\b(?:a|al|del|de|hacia|sobre|hasta|desde|antes|despues|el)\s+(?P<midday>mediodia)\b"
)

DateParts = frozenset[tuple[str, int | str]]


@dataclass(frozen=True)
class Mention[V]:
    """One date, time, amount or name, as written and as compared."""

    kind: str  # "date" | "time" | "amount" | "name"
    text: str
    value: V


Amount = tuple[float, str]
Time = tuple[int, int]


def _prepared(text: str) -> tuple[str, str]:
    digits = words_to_digits(text)
    return digits, fold(digits)


def _blank(folded: str, spans: list[tuple[int, int]]) -> str:
    chars = list(folded)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


@lru_cache(maxsize=8192)
def amounts(text: str) -> tuple[Mention[Amount], ...]:
    """Amounts of money and percentages; a bare number listed before one takes its unit."""
    shown, folded = _prepared(text)
    found: list[Mention[Amount]] = []
    for match in _AMOUNT.finditer(folded):
        number = match.group("n1") or match.group("n2")
        unit = _CURRENCY.get(match.group("u1") or match.group("u2"), match.group("u1"))
        value = parse_number(number)
        found.append(Mention("amount", shown[match.start() : match.end()].strip(), (value, unit)))
        listed = _LIST_JOIN.search(folded[: match.start()])
        if listed:
            start = listed.start("n")
            found.append(
                Mention("amount", shown[start : listed.end("n")], (parse_number(listed["n"]), unit))
            )
    return tuple(found)


def _hour(match: re.Match[str]) -> Time:
    if match.group("midday"):
        return 12, 0
    if match.group("h1"):
        return int(match.group("h1")), int(match.group("m1"))
    if match.group("h2"):
        return int(match.group("h2")), int(match.group("m2"))
    hour, minute = int(match.group("h3")), 0
    plus, minus = match.group("plus"), match.group("minus")
    if plus:
        minute = {"media": 30, "cuarto": 15}.get(plus) or int(plus)
    elif minus:
        hour, minute = hour - 1, 60 - ({"cuarto": 15}.get(minus) or int(minus))
    if (match.group("half") in ("tarde", "noche") or match.group("noon")) and hour < 12:
        hour += 12
    return hour % 24, minute % 60


def clock(text: str) -> Time | None:
    """The one time a short text states ("09:00", "a las nueve", "mediodía"), if any."""
    said = "" if re.search(r"\d:\d", text) else "a " if "mediod" in fold(text) else "a las "
    found = times(said + text)
    return found[0].value if len(found) == 1 else None


@lru_cache(maxsize=8192)
def times(text: str) -> tuple[Mention[Time], ...]:
    """Clock times: "10:30", "10.30 h", "a las diez y media", "a las 4 de la tarde".

    Also "son las nueve (en punto)", "las nueve y cuarto", "las nueve menos
    cuarto" (08:45) and "al mediodía" / "a las doce del mediodía" (12:00).
    """
    shown, folded = _prepared(text)
    return tuple(
        Mention("time", shown[m.start() : m.end()].strip(), _hour(m))
        for m in _TIME.finditer(folded)
    )


def _date_parts(match: re.Match[str]) -> DateParts:
    groups = {key: value for key, value in match.groupdict().items() if value}
    parts: set[tuple[str, int | str]] = set()
    for key, value in groups.items():
        field = key[:-1]
        if field == "wd":
            parts.add(("weekday", value))
        elif field == "d":
            parts.add(("day", int(value)))
        elif field == "m":
            parts.add(("month", _MONTH_NUMBER.get(value) or int(value)))
        elif field == "y":
            year = int(value)
            parts.add(("year", year + 2000 if year < 100 else year))
    return frozenset(parts)


@lru_cache(maxsize=8192)
def dates(text: str) -> tuple[Mention[DateParts], ...]:
    """Dates and parts of dates: "jueves 12", "3 de marzo de 2027", "marzo", "2027"."""
    shown, folded = _prepared(text)
    taken = [(m.start(), m.end()) for m in _AMOUNT.finditer(folded)]
    taken += [(m.start(), m.end()) for m in _TIME.finditer(folded)]
    found: list[Mention[DateParts]] = []
    for match in _DATE.finditer(_blank(folded, taken)):
        parts = _date_parts(match)
        day = dict(parts).get("day")
        if isinstance(day, int) and not 1 <= day <= 31:
            continue
        found.append(Mention("date", shown[match.start() : match.end()].strip(), parts))
    return tuple(found)


def date_parts(value: date) -> DateParts:
    """A full date given by the uploader: weekday, day, month and year."""
    weekday = WEEKDAYS[value.weekday()]
    return frozenset(
        {("weekday", weekday), ("day", value.day), ("month", value.month), ("year", value.year)}
    )


def is_numeric_date(mention: Mention[DateParts]) -> bool:
    """A date written with figures and slashes or dashes ("03/03/2027", "2027-03-03")."""
    return bool(re.search(r"\d[/-]\d", mention.text))


# --- names -----------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]+\.?")
_CONNECTORS = {"de", "del", "la", "las", "los", "y", "e"}
_HONORIFICS = {"sr", "sra", "sres", "sras", "dr", "dra", "don", "dona", "lic", "ing"}
_LEADING = _CONNECTORS | _HONORIFICS
_LEADING |= {"el", "lo", "un", "una", "unos", "unas", "se", "en", "con", "por", "para", "segun"}
_LEADING |= {"sin", "sobre", "tras", "ante", "al", "a", "o", "que", "si", "no", "su", "sus"}
_LEADING |= {"este", "esta", "estos", "estas", "ese", "esa", "como", "cuando", "durante"}
_LEADING |= {"desde", "hasta", "entre", "ambas", "ambos", "dicho", "dicha", "cada", "otro"}
_NOT_NAMES = {"participante", "participantes", *WEEKDAYS, *_MONTH_NUMBER}
_SENTENCE_END = tuple('.!?:;¿¡"«“(—•\n')


def _key(token: str) -> str:
    return fold(token).rstrip(".")


def _sentence_initial(text: str, start: int, previous: str | None) -> bool:
    before = text[:start].rstrip()
    if previous is not None and _key(previous) in _HONORIFICS and previous.endswith("."):
        return False
    return not before or before.endswith(_SENTENCE_END)


def _runs(text: str) -> list[tuple[list[str], bool]]:
    """Runs of capitalised words (connectors inside), and whether each opens a sentence."""
    tokens = list(_TOKEN.finditer(text))
    runs: list[tuple[list[str], bool]] = []
    i = 0
    while i < len(tokens):
        if not tokens[i].group()[0].isupper():
            i += 1
            continue
        previous = tokens[i - 1].group() if i else None
        run, j = [tokens[i].group()], i + 1
        while j < len(tokens) and not text[tokens[j - 1].end() : tokens[j].start()].strip():
            ended = tokens[j - 1].group()
            if ended.endswith(".") and _key(ended) not in _HONORIFICS:
                break  # a full stop ends the name
            word = tokens[j].group()
            if word[0].isupper() or (
                _key(word) in _CONNECTORS
                and j + 1 < len(tokens)
                and (
                    tokens[j + 1].group()[0].isupper()
                    and not text[tokens[j].end() : tokens[j + 1].start()].strip()
                )
            ):
                run.append(word)
                j += 1
            else:
                break
        runs.append((run, _sentence_initial(text, tokens[i].start(), previous)))
        i = j
    return runs


def _name_words(run: list[str]) -> list[str]:
    return [
        word
        for word in run
        if _key(word) not in _CONNECTORS
        and _key(word) not in _NOT_NAMES
        and _key(word) not in _HONORIFICS
        and len(_key(word)) > 1
    ]


@lru_cache(maxsize=8192)
def names(text: str, *, whole: bool = False) -> tuple[Mention[tuple[str, ...]], ...]:
    """Names in running text; with ``whole``, the text is one name (a participant, an owner).

    The value is the name's words as folded.
    """
    if whole:
        words = _name_words([t.group() for t in _TOKEN.finditer(text)])
        return (Mention("name", text.strip(), tuple(_key(w) for w in words)),) if words else ()
    found: list[Mention[tuple[str, ...]]] = []
    for run, initial in _runs(text):
        stripped = list(run)
        while stripped and _key(stripped[0]) in _LEADING | _NOT_NAMES:
            stripped.pop(0)
        if initial and len(run) == 1:
            continue  # the capital of a sentence's first word
        words = _name_words(stripped)
        if words:
            found.append(
                Mention("name", " ".join(stripped).rstrip("."), tuple(_key(w) for w in words))
            )
    return tuple(found)
