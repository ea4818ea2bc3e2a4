"""The transcript attachment's fast path cleans an utterance exactly as ``one_line`` does."""

from __future__ import annotations

import pytest

from voxcliente.render.transcript import _spoken
from voxcliente.text import one_line


@pytest.mark.parametrize(
    "text",
    [
        "Buenos días,  a todos. ",
        "plain ascii",
        "caf\u00e9 ya en NFC",
        "cafe\u0301 en NFD",
        "gpj\u202eexe invertido",
        "tab\tand\nnewline",
        "no\u00a0break space",
        "line\u2028separator",
        "nul\x00byte",
        "zero\u200bwidth",
        "private\ue000use",
        "",
        "   ",
    ],
)
def test_spoken_equals_one_line(text: str) -> None:
    assert _spoken(text) == one_line(text)
