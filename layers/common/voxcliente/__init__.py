"""VoxCliente: a recorded client meeting in, a formal acta out by email.

This package is the shared Lambda layer. Functions import it exactly as it
sits under /opt/python in Lambda. Modules import their heavy dependencies
lazily so that each function pays only for what it uses at cold start.
"""

__version__ = "0.1.0"
