"""A completed transcript's JSON, read without its words.

AssemblyAI's transcript resource lists every word with its times and
confidence, at the top level and again inside each utterance: about 9 MB of
JSON for a 10-hour meeting in the bench's shape (the top-level list only), of
which :func:`voxcliente.adapters.assemblyai.parse_transcript` reads none.
Decoded into Python objects they were some 400,000 dicts: 170 ms with
``json.loads``, 75 with orjson, and 15 more to free them. msgspec decodes into
the typed records below and passes over every field they do not name without
building it: 12 ms.

Only the names are typed: every value is ``Any``, decoded as ``json.loads``
decodes it (integers of any size included), so ``parse_transcript`` reads the
same values from these records as from the dict. An answer msgspec will not
read this way (not an object, an utterance that is not one, NaN or Infinity,
a number beyond a double, text that is not UTF-8) is read by ``json.loads``
instead, whole, as before: what it accepts or refuses stays the same.

Imported on the first transcript read: msgspec is the Acta worker's only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from voxcliente.adapters.assemblyai import Fields


class _Record(msgspec.Struct):
    def get(self, key: str, /) -> Any:
        """The field, as ``dict.get`` reads the key (None when the answer had none)."""
        return getattr(self, key, None)


class _Utterance(_Record):
    speaker: Any = None
    start: Any = None
    end: Any = None
    text: Any = None
    confidence: Any = None


class _Transcript(_Record):
    id: Any = None
    status: Any = None
    error: Any = None
    text: Any = None
    utterances: list[_Utterance] | None = None
    language_code: Any = None
    audio_duration: Any = None
    confidence: Any = None
    speech_model_used: Any = None
    speech_model: Any = None


_DECODER = msgspec.json.Decoder(_Transcript)


def read_transcript(content: bytes) -> Fields:
    """The transcript's fields as :func:`parse_transcript` reads them (``.get``):
    a record of the names it reads, or the whole document as ``json.loads`` reads
    it when msgspec will not (see the module docstring). Raises ``ValueError``
    for what is not JSON and ``TypeError`` for JSON that is not an object."""
    try:
        return _DECODER.decode(content)
    except msgspec.DecodeError:
        data = json.loads(content)
    if not isinstance(data, dict):
        raise TypeError("AssemblyAI answered something other than a JSON object")
    return data
