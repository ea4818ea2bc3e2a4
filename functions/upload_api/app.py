"""UploadApi: signed-in uploads (POST /uploads, GET /uploads/{upload_id}) and, in trial
mode, an address's confirmed upload (POST /trial/codes, POST /trial/uploads,
GET /trial/uploads/{upload_id}).

The /uploads routes sit behind the HTTP API's JWT authorizer: the verified
claims come in the event, and a request without them is answered 401 here too
(the local API, or a route left public by mistake). The /trial routes are
public and answer 401 ``anonymous_uploads_off`` unless trial mode is on.
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
from voxcliente.domain.identity import Forbidden, Unauthenticated, caller_from_event
from voxcliente.flows import upload_api
from voxcliente.observability import http_request_id, instrumented, tracer
from voxcliente.settings import get_settings

_origins = list(get_settings().web_origins) or ["*"]
app = APIGatewayHttpResolver(
    cors=CORSConfig(
        allow_origin=_origins[0],
        extra_origins=_origins[1:],
        max_age=600,
        # A browser's script may read when to try again after a 429.
        expose_headers=["Retry-After"],
    )
)


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message, **extra}},
        headers=headers,
    )


@app.exception_handler(upload_api.BadRequest)
def _bad_request(exc: upload_api.BadRequest) -> Response[dict[str, Any]]:
    return _error(400, exc.code, exc.message, fields=exc.fields)


@app.exception_handler(upload_api.TooLarge)
def _too_large(exc: upload_api.TooLarge) -> Response[dict[str, Any]]:
    return _error(413, exc.code, exc.message)


@app.exception_handler(upload_api.UnsupportedType)
def _unsupported(exc: upload_api.UnsupportedType) -> Response[dict[str, Any]]:
    return _error(415, exc.code, exc.message)


@app.exception_handler(InputRejected)
def _rejected(exc: InputRejected) -> Response[dict[str, Any]]:
    # The trial code's refusals (code_invalid, code_expired, code_not_sent).
    return _error(400, exc.code, exc.message)


@app.exception_handler(Unauthenticated)
def _unauthenticated(exc: Unauthenticated) -> Response[dict[str, Any]]:
    return _error(401, exc.code, exc.message)


@app.exception_handler(Forbidden)
def _forbidden(exc: Forbidden) -> Response[dict[str, Any]]:
    return _error(403, exc.code, exc.message)


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


def _json_body() -> Any:
    try:
        return app.current_event.json_body
    except ValueError as exc:
        raise upload_api.BadRequest({"body": "must be valid JSON"}) from exc


def _source_ip() -> str | None:
    http = (app.current_event.raw_event.get("requestContext") or {}).get("http") or {}
    ip = http.get("sourceIp")
    return ip if isinstance(ip, str) and ip else None


def _created(body: dict[str, Any], status: int = 201) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=body)


@app.post("/uploads")
@tracer.capture_method
def create_upload() -> Response[dict[str, Any]]:
    caller = caller_from_event(app.current_event.raw_event)
    return _created(upload_api.create_upload(_json_body(), caller))


@app.get("/uploads/<upload_id>")
@tracer.capture_method
def get_upload(upload_id: str) -> dict[str, Any]:
    caller = caller_from_event(app.current_event.raw_event)
    return upload_api.upload_status(upload_id, caller)


@app.post("/trial/codes")
@tracer.capture_method
def request_trial_code() -> Response[dict[str, Any]]:
    upload_api.require_trial_mode()
    return _created(upload_api.request_trial_code(_json_body(), _source_ip()), 202)


@app.post("/trial/uploads")
@tracer.capture_method
def create_trial_upload() -> Response[dict[str, Any]]:
    upload_api.require_trial_mode()
    return _created(upload_api.create_trial_upload(_json_body(), _source_ip()))


@app.get("/trial/uploads/<upload_id>")
@tracer.capture_method
def get_trial_upload(upload_id: str) -> dict[str, Any]:
    return upload_api.trial_upload_status(upload_id)


@app.not_found
def _no_route(exc: NotFoundError) -> Response[dict[str, Any]]:
    return _error(404, "not_found", "No such route.")


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
