"""Local stand-ins for running VoxCliente on one machine (tests, ``make demo``).

Nothing here is deployed: the layer never imports this package, and
production settings never point at these servers.
"""
