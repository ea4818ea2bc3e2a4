"""AssemblyAI and OpenAI for the local stack: their emulators (test doubles)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator
    from voxlocal.emulators.openai_server import OpenAIEmulator

ASSEMBLYAI_KEY = "local-assemblyai-key"
OPENAI_KEY = "local-openai-key"


def start_assemblyai(
    stack: contextlib.ExitStack,
    *,
    api_key: str = ASSEMBLYAI_KEY,
    bind: str = "127.0.0.1",
    port: int = 0,
    audio: Iterable[Path] = (),
    deliver_webhooks: bool = False,
) -> AssemblyAIEmulator:
    """The AssemblyAI emulator until the stack closes, transcribing each ``audio`` file
    to the ``<file>.transcript.json`` beside it; with ``deliver_webhooks`` it POSTs each
    final transcript's webhook to the ``webhook_url`` it was given, as AssemblyAI does."""
    from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator

    emulator = AssemblyAIEmulator(api_key=api_key, deliver_webhooks=deliver_webhooks)
    emulator.bind_host, emulator.bind_port = bind, port
    stack.enter_context(emulator)
    for recording in audio:
        emulator.register_audio(recording)
    return emulator


def start_openai(
    stack: contextlib.ExitStack,
    *,
    api_key: str = OPENAI_KEY,
    bind: str = "127.0.0.1",
    port: int = 0,
) -> OpenAIEmulator:
    """The OpenAI emulator until the stack closes."""
    from voxlocal.emulators.openai_server import OpenAIEmulator

    emulator = OpenAIEmulator(api_key=api_key)
    emulator.bind_host, emulator.bind_port = bind, port
    return stack.enter_context(emulator)
