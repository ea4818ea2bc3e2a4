"""Spanish text as the checks compare it: folded, and numbers written as digits.

A transcript says "dieciséis mil euros" or "16.000 euros", "a las diez y
media" or "a las 10:30"; an acta may write either. The checks compare facts,
not spellings, so both sides go through the same two steps:

* :func:`fold`: lower case, accents off, one character for one character (a
  match found in the folded text is at the same place in the original, so the
  offending text can be shown as written);
* :func:`words_to_digits`: the common number words ("dos", "quince",
  "treinta y cinco", "dieciséis mil", "un millón") become digits; "un"/"una"
  alone are articles and stay. In a range the scale said once covers both
  ends: "entre 10 y 12 mil euros" is 10.000 to 12.000, as are "de diez a doce
  mil" and "10 o 12 mil".

:func:`contains` is the case format's matching rule: case- and
accent-insensitive substrings after collapsing whitespace, where a needle that
starts or ends with a digit does not match inside a longer number ("1 de
abril" is not in "11 de abril").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_UNITS = {
    "cero": 0,
    "uno": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiun": 21,
    "veintiuno": 21,
    "veintiuna": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
_TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
_HUNDREDS = {
    "cien": 100,
    "ciento": 100,
    "doscientos": 200,
    "trescientos": 300,
    "cuatrocientos": 400,
    "quinientos": 500,
    "seiscientos": 600,
    "setecientos": 700,
    "ochocientos": 800,
    "novecientos": 900,
}
_HUNDREDS.update({name[:-2] + "as": value for name, value in _HUNDREDS.items() if value > 100})
_SMALL = {**_UNITS, **_TENS, **_HUNDREDS}
_THOUSAND = {"mil"}
_MILLION = {"millon", "millones"}
_ARTICLES = {"un", "una"}


@lru_cache(maxsize=1024)
def _fold_char(char: str) -> str:
    lower = char.lower()
    return unicodedata.normalize("NFD", lower if len(lower) == 1 else char)[0]


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower case without accents, the same length as ``text`` (ñ becomes n)."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def collapse(text: str) -> str:
    """Whitespace runs as one space, ends trimmed."""
    return " ".join(text.split())


def _value(words: list[str]) -> int:
    total, current = 0, 0
    for word in words:
        if word in _THOUSAND:
            total += max(current, 1) * 1000
            current = 0
        elif word in _MILLION:
            total = ((total + current) or 1) * 1_000_000
            current = 0
        elif word != "y":
            current += _SMALL[word]
    return total + current


def _number_runs(folded: str) -> list[tuple[int, int, int]]:
    """(start, end, value) of every run of number words in folded text."""
    tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    runs: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        j = i
        words: list[str] = []
        while j < len(tokens):
            word = tokens[j][2]
            gap = folded[tokens[j - 1][1] : tokens[j][0]] if j > i else ""
            if j > i and gap.strip():
                break  # punctuation between two words ends the number
            if word in _SMALL or word in _THOUSAND or word in _MILLION:
                words.append(word)
                j += 1
                continue
            # "treinta y cinco": "y" joins tens and units only
            if (
                word == "y"
                and words
                and words[-1] in _TENS
                and j + 1 < len(tokens)
                and tokens[j + 1][2] in _UNITS
                and _UNITS[tokens[j + 1][2]] < 10
            ):
                words.append(word)
                j += 1
                continue
            break
        after_digits = folded[: tokens[i][0]].rstrip()[-1:].isdigit()
        scale_only = bool(words) and (words[0] in _THOUSAND or words[0] in _MILLION)
        if (
            words
            and not (len(words) == 1 and words[0] in _ARTICLES)
            and not (
                scale_only and after_digits  # "16 mil": the digits are scaled below
            )
        ):
            runs.append((tokens[i][0], tokens[j - 1][1], _value(words)))
            i = j
        else:
            i = max(j, i + 1)
    return runs


def _range_start(before: str, joint: str) -> bool:
    """Whether a number and the scaled one after it, joined by ``joint``, are a range."""
    joint = joint.strip()
    previous = before.split()[-1:]
    if joint == "y":  # "entre 10 y 12 mil"; "10 y 12 mil" alone may be a sum
        return previous == ["entre"]
    return joint in {"a", "o", "-"} and (joint != "a" or previous in (["de"], ["desde"]))


def _ranges(folded: str, runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Word runs with a range's first end scaled as its second ("diez y doce mil")."""
    out = list(runs)
    for i, ((start, end, low), (after, after_end, high)) in enumerate(pairwise(runs)):
        last = folded[after:after_end].rsplit(maxsplit=1)[-1]
        scale = 1000 if last in _THOUSAND else 1_000_000 if last in _MILLION else 0
        scaled = set(folded[start:end].split()) & (_THOUSAND | _MILLION)
        joint = folded[end:after]
        if (
            scale
            and not scaled
            and re.fullmatch(r"\s+(?:y|a|o)\s+|\s*-\s*", joint)
            and _range_start(folded[:start], joint)
            and low * scale < high
        ):
            out[i] = (start, end, low * scale)
    return out


_RANGE = re.compile(
    r"(?<![\d.,])(?P<low>\d{1,3})(?P<joint>\s+(?:y|a|o)\s+|\s*-\s*)"
    r"(?=(?P<high>\d{1,3}(?:,\d+)?)\s+(?P<scale>mil|millones|millón|millon)\b)",
    re.IGNORECASE,
)


def _range(match: re.Match[str]) -> str:
    """ "10 y 12 mil" -> "10 mil y 12 mil" when it is a range (scaled below)."""
    low, joint = match.group("low"), match.group("joint")
    before = fold(match.string[: match.start()])
    if not _range_start(before, fold(joint)) or int(low) >= parse_number(match.group("high")):
        return match.group()
    scale = "millones" if fold(match.group("scale")).startswith("millon") else "mil"
    return f"{low} {scale}{joint}"


@lru_cache(maxsize=16384)
def words_to_digits(text: str) -> str:
    """``text`` with its number words as digits ("dieciséis mil euros" -> "16000 euros").

    A digit followed by a scale word is multiplied too ("16 mil" -> "16000",
    "1,5 millones" -> "1500000").
    """
    folded = fold(text)
    pieces: list[str] = []
    last = 0
    for start, end, value in _ranges(folded, _number_runs(folded)):
        pieces.append(text[last:start])
        pieces.append(str(value))
        last = end
    out = "".join(pieces) + text[last:]
    return _SCALED.sub(_scale, _RANGE.sub(_range, out))


_SCALED = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:\.\d{3})*(?:,\d+)?)\s+(mil|millones|millón|millon)\b", re.IGNORECASE
)


def _scale(match: re.Match[str]) -> str:
    value = parse_number(match.group(1))
    factor = 1000 if fold(match.group(2)) == "mil" else 1_000_000
    return format_number(value * factor)


def parse_number(text: str) -> float:
    """A Spanish-written number: "16.000" -> 16000, "16.000,50" -> 16000.5, "1,5" -> 1.5."""
    digits = text.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", digits):
        digits = digits.replace(".", "")
    return float(digits.replace(",", "."))


def format_number(value: float) -> str:
    """The number as plain digits ("16000", "1.5"): one spelling per value."""
    return str(int(value)) if value == int(value) else repr(value)


@lru_cache(maxsize=16384)
def normal(text: str) -> str:
    """What the matching rule compares: folded, number words as digits, whitespace collapsed."""
    return collapse(fold(words_to_digits(text)))


def contains(haystack: str, needle: str) -> bool:
    """The case format's matching rule (see the module docstring)."""
    target = normal(needle)
    if not target:
        return True
    pattern = re.escape(target)
    if target[0].isdigit():
        pattern = r"(?<![\d.,])" + pattern
    if target[-1].isdigit():
        pattern += r"(?![\d]|[.,]\d)"
    return re.search(pattern, normal(haystack)) is not None


def words(text: str) -> set[str]:
    """The folded words of ``text`` (letters only)."""
    return {m.group() for m in _WORD.finditer(fold(text))}
