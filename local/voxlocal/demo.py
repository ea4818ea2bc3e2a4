"""``make demo``: the whole pipeline on this machine (being built)."""

from __future__ import annotations

import sys


def main() -> int:
    print(
        "make demo: the end-to-end runner is not built yet; `make test` runs what exists.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
