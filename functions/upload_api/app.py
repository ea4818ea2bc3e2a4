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

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.adapters.http_api import JsonResponse, json_response, resolver
from voxcliente.domain.identity import caller_from_event
from voxcliente.flows import upload_api
from voxcliente.observability import http_request_id, instrumented, tracer

app = resolver({upload_api.TooLarge: 413, upload_api.UnsupportedType: 415})


def _json_body() -> Any:
    try:
        return app.current_event.json_body
    except ValueError as exc:
        raise upload_api.BadRequest({"body": "must be valid JSON"}) from exc


def _source_ip() -> str | None:
    http = (app.current_event.raw_event.get("requestContext") or {}).get("http") or {}
    ip = http.get("sourceIp")
    return ip if isinstance(ip, str) and ip else None


@app.post("/uploads")
@tracer.capture_method
def create_upload() -> JsonResponse:
    caller = caller_from_event(app.current_event.raw_event)
    return json_response(upload_api.create_upload(_json_body(), caller), 201)


@app.get("/uploads/<upload_id>")
@tracer.capture_method
def get_upload(upload_id: str) -> dict[str, Any]:
    caller = caller_from_event(app.current_event.raw_event)
    return upload_api.upload_status(upload_id, caller)


@app.post("/trial/codes")
@tracer.capture_method
def request_trial_code() -> JsonResponse:
    upload_api.require_trial_mode()
    return json_response(upload_api.request_trial_code(_json_body(), _source_ip()), 202)


@app.post("/trial/uploads")
@tracer.capture_method
def create_trial_upload() -> JsonResponse:
    upload_api.require_trial_mode()
    return json_response(upload_api.create_trial_upload(_json_body(), _source_ip()), 201)


@app.get("/trial/uploads/<upload_id>")
@tracer.capture_method
def get_trial_upload(upload_id: str) -> dict[str, Any]:
    return upload_api.trial_upload_status(upload_id)


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
