"""UploadApi: POST /uploads (presigned POST) and GET /uploads/{upload_id} (progress)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.domain.errors import NotFound, TransientError
from voxcliente.flows import upload_api
from voxcliente.observability import http_request_id, instrumented, tracer
from voxcliente.settings import get_settings

_origins = list(get_settings().web_origins) or ["*"]
app = APIGatewayHttpResolver(
    cors=CORSConfig(allow_origin=_origins[0], extra_origins=_origins[1:], max_age=600)
)


def _error(status: int, code: str, message: str, **extra: Any) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message, **extra}},
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


@app.exception_handler(NotFound)
def _not_found(exc: NotFound) -> Response[dict[str, Any]]:
    return _error(404, exc.code, exc.message)


@app.exception_handler(TransientError)
def _unavailable(exc: TransientError) -> Response[dict[str, Any]]:
    return _error(503, exc.code, "The service is busy; try again in a moment.")


@app.post("/uploads")
@tracer.capture_method
def create_upload() -> Response[dict[str, Any]]:
    try:
        body = app.current_event.json_body
    except ValueError as exc:
        raise upload_api.BadRequest({"body": "must be valid JSON"}) from exc
    return Response(
        status_code=201, content_type="application/json", body=upload_api.create_upload(body)
    )


@app.get("/uploads/<upload_id>")
@tracer.capture_method
def get_upload(upload_id: str) -> dict[str, Any]:
    return upload_api.upload_status(upload_id)


@app.not_found
def _no_route(exc: NotFoundError) -> Response[dict[str, Any]]:
    return _error(404, "not_found", "No such route.")


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
