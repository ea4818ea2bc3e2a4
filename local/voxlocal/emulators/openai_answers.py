"""What the OpenAI emulator answers: a hand-written golden acta, or an honest minimum.

The emulator does not imitate a language model. For a Structured Outputs
request it looks at the transcript the request carries (between
``<transcript>`` and ``</transcript>``, each line ``[hh:mm:ss] A: text``):

* if its words are exactly those of a shipped sample (``samples/<name>.mp3``
  with its ``.transcript.json`` sidecar) and the sample has a golden acta
  (``samples/<name>.acta.json``: an acta written by hand from that transcript,
  labelled as a fixture), the answer is that acta;
* otherwise (another recording, a part of a long meeting, the merge of partial
  actas, any other schema) the answer is the minimal instance of the requested
  schema: empty lists, nulls, and for the acta a title "Acta de demostración"
  and a summary saying that no language model wrote it.

Either way the response names its model ``emulator``, so that nothing emulated
is priced or presented as a model's work. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
TRANSCRIPT_OPEN = "<transcript>"
TRANSCRIPT_CLOSE = "</transcript>"
PARTIALS_OPEN = "<partial_actas>"
_LINE_PREFIX = re.compile(r"^\[[^\]]*\] [^:]{1,40}: ")
_LANGUAGE = re.compile(r'set "language" to "([a-z]{2})"', re.IGNORECASE)

DEMO_TITLE = {"es": "Acta de demostración", "en": "Demonstration minutes"}
DEMO_SUMMARY = {
    "es": "Acta de demostración: no la escribió un modelo de lenguaje. El emulador local "
    "de OpenAI solo guarda actas escritas a mano para las grabaciones de ejemplo, y esta "
    "transcripción no es una de ellas.",
    "en": "Demonstration minutes: not written by a language model. The local OpenAI "
    "emulator only holds hand-written minutes for the sample recordings, and this "
    "transcript is not one of them.",
}
DEMO_ANSWER = {
    "es": "Respuesta de demostración: no la escribió un modelo de lenguaje.",
    "en": "Demonstration answer: not written by a language model.",
}


def user_text(messages: list[Any]) -> str:
    """The text of the user messages (string content or ``{"type": "text"}`` parts)."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                str(part.get("text", ""))
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
    return "\n".join(parts)


def _system_text(messages: list[Any]) -> str:
    return "\n".join(
        str(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") in ("system", "developer")
    )


def _fingerprint(words: str) -> str:
    return hashlib.sha256(" ".join(words.split()).encode()).hexdigest()


def spoken_words(user: str) -> str | None:
    """The words of the transcript block, without times and speaker labels; None if absent."""
    if TRANSCRIPT_OPEN not in user or TRANSCRIPT_CLOSE not in user:
        return None
    block = user.split(TRANSCRIPT_OPEN, 1)[1].split(TRANSCRIPT_CLOSE, 1)[0]
    return " ".join(_LINE_PREFIX.sub("", line) for line in block.splitlines() if line.strip())


@lru_cache(maxsize=4)
def golden_actas(samples: Path = SAMPLES) -> dict[str, dict[str, Any]]:
    """Golden actas by the fingerprint of their sample's transcript text."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(samples.glob("*.acta.json")):
        golden = json.loads(path.read_text(encoding="utf-8"))
        sidecar = json.loads((samples / golden["transcript"]).read_text(encoding="utf-8"))
        found[_fingerprint(sidecar["text"])] = golden["acta"]
    return found


def language_asked(messages: list[Any]) -> str:
    """The acta's language as the system message sets it; Spanish, the product's default."""
    match = _LANGUAGE.search(_system_text(messages))
    return match.group(1) if match else "es"


def content(body: dict[str, Any], schema: dict[str, Any] | None, samples: Path = SAMPLES) -> str:
    """The ``message.content`` answered for a request: JSON for a schema, else plain text."""
    messages = body.get("messages") or []
    language = language_asked(messages)
    if schema is None:
        return DEMO_ANSWER.get(language, DEMO_ANSWER["en"])
    words = spoken_words(user_text(messages))
    if words is not None:
        golden = golden_actas(samples).get(_fingerprint(words))
        if golden is not None:
            return json.dumps(golden, ensure_ascii=False)
    return json.dumps(minimal_instance(schema, language), ensure_ascii=False)


# --- the minimal instance of a schema ---------------------------------------------------

_FORMATS = {
    "date-time": "2000-01-01T00:00:00Z",
    "time": "00:00:00",
    "date": "2000-01-01",
    "duration": "P0D",
    "email": "demo@example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def minimal_instance(schema: dict[str, Any], language: str = "es") -> Any:
    """The smallest value valid for a Structured Outputs schema: null where allowed,
    the fewest list items, the first enum value; ``title`` / ``summary`` / ``language``
    strings say what this is."""
    return _Minimal(schema, language).value(schema, "")


class _Minimal:
    def __init__(self, root: dict[str, Any], language: str) -> None:
        self.root = root
        self.language = language

    def _resolve(self, ref: str) -> dict[str, Any]:
        target: Any = self.root
        for part in ref.lstrip("#/").split("/") if ref != "#" else []:
            target = target[part]
        return target if isinstance(target, dict) else {}

    def value(self, node: dict[str, Any], name: str) -> Any:
        if "$ref" in node:
            return self.value(self._resolve(node["$ref"]), name)
        if "const" in node:
            return node["const"]
        if node.get("enum"):
            return None if None in node["enum"] else node["enum"][0]
        variants = node.get("anyOf") or node.get("allOf")
        if variants:
            nullable = [v for v in variants if v.get("type") == "null"]
            return None if nullable and "anyOf" in node else self.value(variants[0], name)
        declared = node.get("type", "object")
        types = declared if isinstance(declared, list) else [declared]
        if "null" in types:
            return None
        kind = types[0]
        if kind == "object":
            properties = node.get("properties") or {}
            return {key: self.value(child, key) for key, child in properties.items()}
        if kind == "array":
            count = int(node.get("minItems", 0))
            return [self.value(node.get("items") or {}, name) for _ in range(count)]
        if kind == "string":
            return self._string(node, name)
        if kind in ("integer", "number"):
            return self._number(node, kind)
        return False  # boolean

    def _string(self, node: dict[str, Any], name: str) -> str:
        if node.get("format") in _FORMATS:
            return _FORMATS[node["format"]]
        if name == "language":
            return self.language
        if name == "title":
            return DEMO_TITLE.get(self.language, DEMO_TITLE["en"])
        if name == "summary":
            return DEMO_SUMMARY.get(self.language, DEMO_SUMMARY["en"])
        return ""

    @staticmethod
    def _number(node: dict[str, Any], kind: str) -> int | float:
        low = node.get("minimum", node.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in node and "minimum" not in node else low
        step = node.get("multipleOf")
        if step:
            value = -(-value // step) * step
        return int(value) if kind == "integer" else float(value)
