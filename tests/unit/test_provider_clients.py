"""One client per execution environment for each provider, and the bench's verdicts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voxcliente.adapters import assemblyai, openai_api
from voxcliente.settings import load_settings
from voxlocal.bench.cold import ratio_row
from voxlocal.bench.report import markdown_table


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    openai_api.reset_clients()
    assemblyai._cached_client.cache_clear()
    yield
    openai_api.reset_clients()
    assemblyai._cached_client.cache_clear()


def test_one_openai_client_serves_every_acta_until_the_key_changes() -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-one", "OPENAI_BASE_URL": "http://127.0.0.1:9"})
    first = openai_api.shared_client(settings)
    assert openai_api.shared_client(settings) is first
    assert (first.api_key, str(first.base_url), first.max_retries) == (
        "sk-one",
        "http://127.0.0.1:9",
        0,
    )
    rotated = openai_api.shared_client(settings.model_copy(update={"openai_api_key": "sk-two"}))
    assert rotated is not first and rotated.api_key == "sk-two"


def test_one_assemblyai_client_per_key_sends_the_key_as_the_sdk_did() -> None:
    settings = load_settings(
        {"ASSEMBLYAI_API_KEY": "aai-key", "ASSEMBLYAI_BASE_URL": "http://127.0.0.1:9"}
    )
    client = assemblyai._client(settings).http_client
    assert assemblyai._client(settings).http_client is client
    assert client.headers["authorization"] == "aai-key"
    assert str(client.base_url) == "http://127.0.0.1:9"


def test_a_figure_over_its_goal_states_the_distance_in_milliseconds() -> None:
    over = ratio_row("Submit: import", [0.300, 0.330, 0.360], [0.200], 1.15)
    assert not over.met
    assert over.now == "330 ms [300-360]"
    assert over.note == "1.65x floor: 100 ms over the goal"
    within = ratio_row("Webhook: import", [0.220], [0.200], 1.15)
    assert within.met and within.note == "1.10x floor: met"
    assert "| Webhook: import | 220 ms [220-220] | 200 ms [200-200] | ≤ 1.15x floor | yes |" in (
        markdown_table([within])
    )


def test_a_ratio_pairs_each_round_with_its_floor() -> None:
    """A burst of load slows a function and its floor, timed side by side, alike; one that
    caught the function alone counts once: the rounds' ratios (1.1, 1.1, 1.65) say 1.1,
    where the ratio of the medians (330 ms / 200 ms) would say 1.65."""
    row = ratio_row("Reconciler: import", [0.22, 0.44, 0.33], [0.20, 0.40, 0.20], 1.15)
    assert row.met and row.note == "1.10x floor: met"
