"""``make up``: the deployed architecture on this machine, one command, Ctrl-C stops it.

:func:`start` starts it inside a :class:`contextlib.ExitStack` (the tests and the
browser suite use it in-process); ``python -m voxlocal.up`` is the command.
"""

from voxlocal.up.runner import Running, start

__all__ = ["Running", "start"]
