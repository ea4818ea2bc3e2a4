"""Where a meeting's handler spends its CPU: ``python -m voxlocal.bench.where [Acta] [10]``.

The per-meeting figure (:mod:`voxlocal.bench.meetings`) says how much; this says
where. cProfile cannot: since Python 3.12 it traces every thread of the process
(``sys.monitoring``), so the emulators' and moto's work, and their waits, would
be mixed in. Instead a sampling thread reads the handler thread's own CPU clock
(``time.pthread_getcpuclockid``) every half millisecond and charges what it
used since the last sample to the stack the thread is on then: waits cost
nothing, other threads are not seen. Printed per run: each function's CPU with
what it calls (inclusive), then the functions the CPU was in (self).
"""

from __future__ import annotations

import argparse
import collections
import gc
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from voxlocal.bench import meetings

INTERVAL_S = 0.0005


class Sampler:
    """CPU of one thread charged to its stacks, until :meth:`stop`."""

    def __init__(self, ident: int) -> None:
        self._ident = ident
        self._clock = time.pthread_getcpuclockid(ident)
        self._stopped = threading.Event()
        self.cpu: collections.defaultdict[tuple[str, ...], float] = collections.defaultdict(float)
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.clock_gettime(self._clock)
        while not self._stopped.wait(INTERVAL_S):
            now = time.clock_gettime(self._clock)
            used, last = now - last, now
            frame = sys._current_frames().get(self._ident)
            if used <= 0 or frame is None:
                continue
            stack = []
            while frame is not None:
                code = frame.f_code
                stack.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}")
                frame = frame.f_back
            stack.reverse()
            # From the handler down: the bench's own frames above it are in every sample.
            entry = max(
                (i for i, f in enumerate(stack) if f.endswith(":lambda_handler")), default=0
            )
            self.cpu[tuple(stack[entry:])] += used

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def profile(
    handler: str, seconds: int, runs: int
) -> collections.defaultdict[tuple[str, ...], float]:
    """The handler's CPU by stack over ``runs`` meetings of ``seconds`` of audio."""
    found: collections.defaultdict[tuple[str, ...], float] = collections.defaultdict(float)

    def around(name: str, call: Callable[[], Any]) -> Any:
        gc.collect()  # the bench's own collector debt, as in meetings.time_meeting
        if name != handler:
            return call()
        sampler = Sampler(threading.get_ident())
        try:
            return call()
        finally:
            sampler.stop()
            for stack, used in sampler.cpu.items():
                found[stack] += used

    audio, _ = meetings.sample()
    with meetings.stack() as bench:
        meetings.time_meeting(bench, "warm-up", 60, 0)
        for n in range(1, runs + 1):
            recording = audio + f"#where-{seconds}-{n}".encode()
            transcript = meetings.long_transcript(seconds)
            meetings.run_meeting(bench, recording, transcript, name=f"where-{n}.mp3", around=around)
    return found


def report(cpu: dict[tuple[str, ...], float], runs: int, top: int = 40) -> str:
    inclusive: collections.defaultdict[str, float] = collections.defaultdict(float)
    own: collections.defaultdict[str, float] = collections.defaultdict(float)
    for stack, used in cpu.items():
        own[stack[-1]] += used
        for function in set(stack):
            inclusive[function] += used

    def largest(found: dict[str, float], count: int) -> list[str]:
        ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)[:count]
        return [f"{used * 1000 / runs:8.1f}  {name}" for name, used in ranked]

    total = sum(cpu.values()) * 1000 / runs
    head = f"CPU per run: {total:.0f} ms (sampled every {INTERVAL_S * 1000:g} ms)"
    return "\n".join(
        [head, "inclusive:", *largest(inclusive, top), "self:", *largest(own, top // 2)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("handler", nargs="?", default="Acta", help="Submit, Webhook, Acta...")
    parser.add_argument("hours", nargs="?", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = max(args.runs, 1)
    print(report(profile(args.handler, round(args.hours * 3600), runs), runs))


if __name__ == "__main__":
    main()
