"""``python -m voxlocal.evaluation`` (``make eval``)."""

from __future__ import annotations

import sys

from voxlocal.evaluation.runner import main

sys.exit(main())
