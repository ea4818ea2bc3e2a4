"""Where the local stack is, and the environment the functions see in it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator
    from voxlocal.emulators.openai_server import OpenAIEmulator
    from voxlocal.stack.aws import LocalAws

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
# Where AssemblyAI would call us in AWS; locally the runner delivers the request itself.
LOCAL_WEBHOOK_URL = "https://voxcliente.invalid/webhooks/assemblyai"


class StackError(Exception):
    """The local stack cannot be built: a message for the person running it."""


def quiet_lambda_environment(env: Mapping[str, str]) -> None:
    """The environment the template's Globals give the functions, plus local endpoints."""
    os.environ.update(
        {
            "POWERTOOLS_SERVICE_NAME": "voxcliente",
            "POWERTOOLS_METRICS_NAMESPACE": "VoxCliente",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "ERROR"),
            "POWERTOOLS_METRICS_DISABLED": "1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            **env,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


def function_environment(database_url: str, aws: LocalAws, webhook_secret: str) -> dict[str, str]:
    """The settings that point the functions at the local database and moto."""
    env = {
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AUDIO_BUCKET": aws.bucket,
        "ACTA_QUEUE_URL": aws.queue_url,
        "WEBHOOK_URL": LOCAL_WEBHOOK_URL,
        "WEBHOOK_SECRET": webhook_secret,
        "SES_FROM": f"VoxCliente <{aws.sender}>",
    }
    if "host=/" in database_url or "@/" in database_url:
        env["DB_SSLMODE"] = "disable"  # a Unix socket: no TLS to negotiate
    return env


def provider_environment(
    assemblyai: AssemblyAIEmulator | None = None, openai: OpenAIEmulator | None = None
) -> dict[str, str]:
    """The settings that point the functions at the emulators given."""
    env: dict[str, str] = {}
    if assemblyai is not None:
        env["ASSEMBLYAI_BASE_URL"] = assemblyai.base_url
        env["ASSEMBLYAI_API_KEY"] = assemblyai.api_key
    if openai is not None:
        env["OPENAI_BASE_URL"] = openai.base_url
        env["OPENAI_API_KEY"] = openai.api_key
    return env
