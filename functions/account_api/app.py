"""AccountApi: a signed-in person's account, meetings (actas) and clients.

Every route is behind the HTTP API's JWT authorizer; the flow reads the verified
claims from the event and answers only with the caller's own rows (another
person's id answers 404, exactly like a missing one).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.domain.errors import (
    Conflict,
    InputRejected,
    NotFound,
    RateLimited,
    TransientError,
)
from voxcliente.domain.identity import Forbidden, Unauthenticated
from voxcliente.flows import account_api
from voxcliente.observability import http_request_id, instrumented, tracer
from voxcliente.settings import get_settings

_origins = list(get_settings().web_origins) or ["*"]
app = APIGatewayHttpResolver(
    cors=CORSConfig(allow_origin=_origins[0], extra_origins=_origins[1:], max_age=600)
)


def _error(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message, **extra}},
        headers=headers,
    )


def _ok(body: dict[str, Any], status: int = 200) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=body)


@app.exception_handler(Unauthenticated)
def _unauthenticated(exc: Unauthenticated) -> Response[dict[str, Any]]:
    return _error(401, exc.code, exc.message)


@app.exception_handler(Forbidden)
def _forbidden(exc: Forbidden) -> Response[dict[str, Any]]:
    return _error(403, exc.code, exc.message)


@app.exception_handler(account_api.BadRequest)
def _bad_request(exc: account_api.BadRequest) -> Response[dict[str, Any]]:
    return _error(400, exc.code, exc.message, fields=exc.fields)


@app.exception_handler(InputRejected)
def _rejected(exc: InputRejected) -> Response[dict[str, Any]]:
    return _error(400, exc.code, exc.message)


@app.exception_handler(NotFound)
def _not_found(exc: NotFound) -> Response[dict[str, Any]]:
    return _error(404, exc.code, exc.message)


@app.exception_handler(Conflict)
def _conflict(exc: Conflict) -> Response[dict[str, Any]]:
    return _error(409, exc.code, exc.message)


@app.exception_handler(RateLimited)
def _rate_limited(exc: RateLimited) -> Response[dict[str, Any]]:
    return _error(
        429,
        exc.code,
        exc.message,
        headers={"Retry-After": str(exc.retry_after_s)},
        retry_after_s=exc.retry_after_s,
    )


@app.exception_handler(TransientError)
def _unavailable(exc: TransientError) -> Response[dict[str, Any]]:
    return _error(503, exc.code, "The service is busy; try again in a moment.")


def _event() -> dict[str, Any]:
    return app.current_event.raw_event


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _json_body() -> Any:
    try:
        return app.current_event.json_body
    except ValueError as exc:
        raise account_api.BadRequest({"body": "must be valid JSON"}) from exc


@app.get("/me")
@tracer.capture_method
def get_me() -> Response[dict[str, Any]]:
    return _ok(account_api.me(_event()))


@app.delete("/me")
@tracer.capture_method
def delete_me() -> Response[dict[str, Any]]:
    return _ok(account_api.erase_me(_event()))


@app.get("/meetings")
@tracer.capture_method
def list_meetings() -> Response[dict[str, Any]]:
    return _ok(account_api.list_meetings(_event(), _query()))


@app.get("/meetings/<meeting_id>")
@tracer.capture_method
def get_meeting(meeting_id: str) -> Response[dict[str, Any]]:
    return _ok(account_api.meeting_detail(_event(), meeting_id))


@app.post("/meetings/<meeting_id>/resend")
@tracer.capture_method
def resend_meeting(meeting_id: str) -> Response[dict[str, Any]]:
    return _ok(account_api.resend(_event(), meeting_id), status=202)


@app.delete("/meetings/<meeting_id>")
@tracer.capture_method
def delete_meeting(meeting_id: str) -> Response[dict[str, Any]]:
    return _ok(account_api.erase_meeting(_event(), meeting_id))


@app.get("/clients")
@tracer.capture_method
def list_clients() -> Response[dict[str, Any]]:
    return _ok(account_api.list_clients(_event()))


@app.patch("/clients/<client_id>")
@tracer.capture_method
def rename_client(client_id: str) -> Response[dict[str, Any]]:
    return _ok(account_api.rename_client(_event(), client_id, _json_body()))


@app.not_found
def _no_route(exc: NotFoundError) -> Response[dict[str, Any]]:
    return _error(404, "not_found", "No such route.")


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
