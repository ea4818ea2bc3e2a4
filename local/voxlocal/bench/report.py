"""``make bench``'s table: printed, and kept in ``bench/RESULTS.md`` with the machine."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from voxlocal.bench.rows import Row

COLUMNS = ("figure", "now", "floor", "goal", "met", "note")


def met_cell(row: Row) -> str:
    if row.goal in ("", "-"):
        return "-"
    return "yes" if row.met else "NO"


def cells(row: Row) -> tuple[str, ...]:
    return (row.figure, row.now, row.floor, row.goal, met_cell(row), row.note)


def text_table(rows: list[Row]) -> str:
    """Aligned columns for a terminal."""
    table = [COLUMNS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True))
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {sys.version.split()[0]}"
    )


def results_markdown(rows: list[Row], *, how: str, when: datetime | None = None) -> str:
    moment = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "# `make bench`: the last run\n\n"
        f"Run {moment} on {machine()}.\n\n"
        f"{how}\n\n"
        "Times are medians with [min-max] over fresh interpreters; each ratio is the "
        "median of the rounds' ratios, the function and its floor timed back to back in "
        "each round, so it is fairer than either time alone on a busy machine. Rerun "
        "`make bench` to refresh this file.\n\n"
        f"{markdown_table(rows)}\n"
    )
