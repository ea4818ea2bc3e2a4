"""The local stack: what the functions run against on this machine.

One package for what ``make demo``, ``make services``, ``make load`` and the tests
start, so that they run the functions against the same things:

* PostgreSQL: ``DATABASE_URL``'s server, or the embedded one (:mod:`voxlocal.postgres`),
  migrated;
* AWS: moto's server on loopback, strict where moto is not (:mod:`voxlocal.aws_doubles`),
  with the bucket, the acta queue and its dead-letter queue, the sender identity,
  the configuration set and the topics that ``template.yaml`` declares, configured
  with the properties the template gives them (only the names are local);
* AssemblyAI and OpenAI: their emulators (:mod:`voxlocal.emulators`).
"""

from voxlocal.stack.aws import (
    DEFAULT_SENDER,
    LocalAws,
    create_aws_resources,
    sent_messages,
    start_aws,
    start_moto,
)
from voxlocal.stack.console import Progress, functions_log_to
from voxlocal.stack.database import (
    EMBEDDED_DATA_DIR,
    migrate,
    start_database,
    stop_embedded_server,
)
from voxlocal.stack.environment import (
    LOCAL_WEBHOOK_URL,
    REGION,
    ROOT,
    StackError,
    function_environment,
    provider_environment,
    quiet_lambda_environment,
)
from voxlocal.stack.providers import ASSEMBLYAI_KEY, OPENAI_KEY, start_assemblyai, start_openai

__all__ = [
    "ASSEMBLYAI_KEY",
    "DEFAULT_SENDER",
    "EMBEDDED_DATA_DIR",
    "LOCAL_WEBHOOK_URL",
    "OPENAI_KEY",
    "REGION",
    "ROOT",
    "LocalAws",
    "Progress",
    "StackError",
    "create_aws_resources",
    "function_environment",
    "functions_log_to",
    "migrate",
    "provider_environment",
    "quiet_lambda_environment",
    "sent_messages",
    "start_assemblyai",
    "start_aws",
    "start_database",
    "start_moto",
    "start_openai",
    "stop_embedded_server",
]
