"""The handlers' instrumentation (voxcliente.observability.instrumented): the
correlation id, metrics and tracing Powertools' three decorators gave, paid for only
when there is something to record."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from voxcliente import observability
from voxcliente.observability import http_request_id, instrumented, logger, metrics
from voxlocal.events import LambdaContext

CONTEXT = LambdaContext("Webhook")


def _event(request_id: str | None) -> dict[str, Any]:
    return {"requestContext": {"requestId": request_id}} if request_id else {"body": "{}"}


def test_the_correlation_id_is_the_http_request_id_and_is_cleared_when_absent() -> None:
    seen: list[str | None] = []

    @instrumented(correlation_id=http_request_id)
    def handler(event: dict[str, Any], context: Any) -> str:
        seen.append(logger.get_correlation_id())
        return "done"

    assert handler(_event("req-1"), CONTEXT) == "done"
    # a later invocation of the same environment without one does not keep the last
    assert handler(_event(None), CONTEXT) == "done"
    assert handler({"requestContext": "not an object"}, CONTEXT) == "done"
    assert seen == ["req-1", None, None]


def test_the_lambda_context_keys_are_in_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    @instrumented(correlation_id=http_request_id)
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.error("something to see")

    handler(_event("req-2"), CONTEXT)
    [record] = [r for r in caplog.records if r.getMessage() == "something to see"]
    # as the function's log handler writes it
    line = json.loads(logger.registered_formatter.format(record))
    assert line["correlation_id"] == "req-2"
    assert line["function_name"] == CONTEXT.function_name
    assert line["function_request_id"] == CONTEXT.aws_request_id
    assert "cold_start" in line


def _emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.splitlines() if '"_aws"' in x]


def test_metrics_are_flushed_once_when_added_and_nothing_is_said_when_none(
    capfd: pytest.CaptureFixture[str],
) -> None:
    @instrumented()
    def handler(event: dict[str, Any], context: Any) -> None:
        if event.get("count"):
            metrics.add_metric(name="TranscriptsCompleted", unit="Count", value=1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "No application metrics to publish" would raise
        handler({"count": True}, CONTEXT)
        [emf] = _emf_lines(capfd.readouterr().out)
        assert emf["TranscriptsCompleted"] == [1.0]
        assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "VoxCliente"
        handler({}, CONTEXT)
        assert _emf_lines(capfd.readouterr().out) == []
    assert metrics.metric_set == {}


def test_metrics_are_flushed_even_when_the_handler_raises(
    capfd: pytest.CaptureFixture[str],
) -> None:
    @instrumented()
    def handler(event: dict[str, Any], context: Any) -> None:
        metrics.add_metric(name="TranscriptsCompleted", unit="Count", value=1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({}, CONTEXT)
    assert len(_emf_lines(capfd.readouterr().out)) == 1


def test_disabled_metrics_are_not_kept_across_invocations(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "1")

    @instrumented()
    def handler(event: dict[str, Any], context: Any) -> None:
        metrics.add_metric(name="TranscriptsCompleted", unit="Count", value=1)

    for _ in range(3):
        handler({}, CONTEXT)
    assert metrics.metric_set == {}
    assert _emf_lines(capfd.readouterr().out) == []


class _Tracer:
    """Records what Powertools' Tracer would have traced."""

    def __init__(self, *, disabled: bool) -> None:
        self.disabled = disabled
        self.calls: list[str] = []

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        def traced(event: Any, context: Any) -> Any:
            self.calls.append(handler.__name__)
            return handler(event, context)

        return traced


@pytest.mark.parametrize(("disabled", "traced"), [(False, ["handler"]), (True, [])])
def test_the_handler_is_traced_only_when_tracing_is_on(
    monkeypatch: pytest.MonkeyPatch, disabled: bool, traced: list[str]
) -> None:
    fake = _Tracer(disabled=disabled)
    monkeypatch.setattr(observability, "tracer", fake)

    @instrumented()
    def handler(event: dict[str, Any], context: Any) -> str:
        return "ok"

    assert handler({}, CONTEXT) == "ok"
    assert fake.calls == traced


def test_tracing_can_be_asked_for_whatever_the_tracer_decided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _Tracer(disabled=True)
    monkeypatch.setattr(observability, "tracer", fake)

    @instrumented(traced=True)
    def handler(event: dict[str, Any], context: Any) -> str:
        return "ok"

    handler({}, CONTEXT)
    assert fake.calls == ["handler"]
