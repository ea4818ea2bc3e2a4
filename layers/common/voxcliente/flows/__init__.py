"""One module per Lambda function, named exactly like ``functions/<name>``.

A flow may import ``pipeline``, ``adapters``, ``domain``, ``acta`` and ``render``,
never another flow."""
