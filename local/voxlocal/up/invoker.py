"""The functions as Lambda runs them: one warm execution environment each.

Lambda gives an execution environment one invocation at a time and keeps it (and
its database connection) between invocations. Here each function is a thread
of its own that runs its invocations in turn: the HTTP server's threads, the S3
poller, the queue loop and the schedule hand it events and wait for the answer.
The layer keeps one database connection per thread (:mod:`voxcliente.adapters.db`),
so each function holds one connection, as in AWS.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from voxlocal.events import LambdaContext
from voxlocal.functions import load_function

# The template's function timeouts are what the handlers see as remaining time.
DEFAULT_TIMEOUT_S = 900


class Functions:
    """``functions.invoke("submit", event)``: the handler's answer, or its exception."""

    def __init__(self, timeouts_s: dict[str, int] | None = None) -> None:
        self._timeouts = dict(timeouts_s or {})
        self._lock = threading.Lock()
        self._modules: dict[str, ModuleType] = {}
        self._environments: dict[str, ThreadPoolExecutor] = {}

    def load(self, *names: str) -> None:
        """Import the handlers now, so that a broken one stops the start, not a request."""
        for name in names:
            self._module(name)

    def _module(self, name: str) -> ModuleType:
        with self._lock:
            module = self._modules.get(name)
            if module is None:
                module = self._modules[name] = load_function(name)
            return module

    def _environment(self, name: str) -> ThreadPoolExecutor:
        with self._lock:
            pool = self._environments.get(name)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lambda-{name}")
                self._environments[name] = pool
            return pool

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        handler = self._module(name).lambda_handler
        context = LambdaContext(name, self._timeouts.get(name, DEFAULT_TIMEOUT_S))
        return self._environment(name).submit(handler, event, context).result()

    def close(self) -> None:
        """Close each environment's database connection, then the environments."""
        from voxcliente.adapters.db import close_connection

        with self._lock:
            pools = list(self._environments.values())
            self._environments.clear()
        for pool in pools:
            pool.submit(close_connection).result()
            pool.shutdown(wait=True)
