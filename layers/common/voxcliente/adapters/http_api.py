"""The HTTP API functions' resolver: CORS from the settings, and every domain error
answered with its status and the project's error body.

``{"error": {"code": ..., "message": ..., ...}}``: 400 for a refused request
(with ``fields`` naming each bad field when the error has them), 401 without a
verified sign-in, 403 for a token that cannot be used, 404 (also for another
person's id), 409, 429 with ``Retry-After``, 503 when a service is busy. A
function passes the statuses of its own refusals (413, 415...) in ``statuses``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from voxcliente.domain.errors import (
    Conflict,
    InputRejected,
    NotFound,
    RateLimited,
    TransientError,
    VoxError,
)
from voxcliente.domain.identity import Forbidden, Unauthenticated
from voxcliente.settings import get_settings

type JsonResponse = Response[dict[str, Any]]

# Powertools picks the handler of the nearest class in an exception's MRO, so a
# function's own subclass (TooLarge of InputRejected) may get its own status.
_STATUSES: dict[type[VoxError], int] = {
    InputRejected: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}


def error(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message, **extra}},
        headers=headers,
    )


def json_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return Response(status_code=status, content_type="application/json", body=body)


def resolver(statuses: Mapping[type[VoxError], int] | None = None) -> APIGatewayHttpResolver:
    """A resolver with the settings' CORS origins and every error handler."""
    origins = list(get_settings().web_origins) or ["*"]
    app = APIGatewayHttpResolver(
        cors=CORSConfig(
            allow_origin=origins[0],
            extra_origins=origins[1:],
            max_age=600,
            # A browser's script may read when to try again after a 429.
            expose_headers=["Retry-After"],
        )
    )

    for kind, status in {**_STATUSES, **(statuses or {})}.items():
        app.exception_handler(kind)(_answer_with(status))
    app.exception_handler(RateLimited)(_rate_limited)
    app.exception_handler(TransientError)(_unavailable)
    app.not_found(_no_route)
    return app


def _rate_limited(exc: RateLimited) -> JsonResponse:
    return error(
        429,
        exc.code,
        exc.message,
        headers={"Retry-After": str(exc.retry_after_s)},
        retry_after_s=exc.retry_after_s,
    )


def _unavailable(exc: TransientError) -> JsonResponse:
    return error(503, exc.code, "The service is busy; try again in a moment.")


def _no_route(exc: NotFoundError) -> JsonResponse:
    return error(404, "not_found", "No such route.")


def _answer_with(status: int) -> Any:
    def answer(exc: VoxError) -> JsonResponse:
        fields = getattr(exc, "fields", None)
        extra = {"fields": fields} if isinstance(fields, dict) else {}
        return error(status, exc.code, exc.message, **extra)

    return answer
