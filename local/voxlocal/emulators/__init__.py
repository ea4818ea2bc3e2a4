"""Loopback HTTP emulators of AssemblyAI and OpenAI: TEST DOUBLES, never deployed.

They speak the real services' HTTP APIs on 127.0.0.1 so that the production code,
using the real ``assemblyai`` and ``openai`` SDKs, is replaced only at its HTTP
boundary in the integration tests and in ``make demo`` without API keys::

    with AssemblyAIEmulator() as aai_emu, OpenAIEmulator() as oai_emu:
        aai_emu.register_audio(Path("samples/reunion-textiles-andinos.mp3"))
        aai.settings.base_url = aai_emu.base_url
        aai.settings.api_key = aai_emu.api_key
        client = OpenAI(base_url=oai_emu.base_url, api_key=oai_emu.api_key)

Standard library only; importing this package does not import either SDK.
"""

from voxlocal.emulators._http import RecordedRequest
from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator
from voxlocal.emulators.openai_answers import minimal_instance
from voxlocal.emulators.openai_server import OpenAIEmulator

__all__ = ["AssemblyAIEmulator", "OpenAIEmulator", "RecordedRequest", "minimal_instance"]
