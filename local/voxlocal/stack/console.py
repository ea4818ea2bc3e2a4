"""What the person running the local stack sees: one line per stage, function logs in a file."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voxlocal.stack.environment import ROOT


class Progress:
    """One line per stage, with how long it took."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.count = 0

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.count += 1
        print(f"[{self.count:>2}] {name} ...", end="", flush=True)
        begun = time.monotonic()
        try:
            yield
        except BaseException:
            print(" failed", flush=True)
            raise
        print(f" {time.monotonic() - begun:6.2f} s", flush=True)

    def note(self, text: str) -> None:
        print(f"     {text}", flush=True)


def functions_log_to(stack: contextlib.ExitStack, path: Path, progress: Progress) -> None:
    """The functions' JSON log lines (what CloudWatch would hold) go to a file, so the
    terminal shows the stages and one clear line if something stops them."""
    import warnings

    from voxcliente.observability import logger

    path.parent.mkdir(parents=True, exist_ok=True)
    stream = stack.enter_context(path.open("a", encoding="utf-8"))
    handler: Any = logger.registered_handler
    handler.setStream(stream)
    # Metrics are disabled locally; Powertools warns at every invocation anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    progress.note(f"function logs (errors and warnings): {rel}")
