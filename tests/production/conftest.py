"""The production tier: the functions with the environment ``template.yaml`` gives them."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "production: the functions in their deployed configuration (environment built "
        "from template.yaml, the providers' real host names)",
    )
