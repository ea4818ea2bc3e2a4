"""AccountApi: a signed-in person's account, meetings (actas) and clients.

Every route is behind the HTTP API's JWT authorizer; the flow reads the verified
claims from the event and answers only with the caller's own rows (another
person's id answers 404, exactly like a missing one).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.adapters.http_api import JsonResponse, json_response, resolver
from voxcliente.flows import account_api
from voxcliente.observability import http_request_id, instrumented, tracer

app = resolver()


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
def get_me() -> JsonResponse:
    return json_response(account_api.me(_event()))


@app.delete("/me")
@tracer.capture_method
def delete_me() -> JsonResponse:
    return json_response(account_api.erase_me(_event()))


@app.get("/meetings")
@tracer.capture_method
def list_meetings() -> JsonResponse:
    return json_response(account_api.list_meetings(_event(), _query()))


@app.get("/meetings/<meeting_id>")
@tracer.capture_method
def get_meeting(meeting_id: str) -> JsonResponse:
    return json_response(account_api.meeting_detail(_event(), meeting_id))


@app.post("/meetings/<meeting_id>/resend")
@tracer.capture_method
def resend_meeting(meeting_id: str) -> JsonResponse:
    return json_response(account_api.resend(_event(), meeting_id), status=202)


@app.delete("/meetings/<meeting_id>")
@tracer.capture_method
def delete_meeting(meeting_id: str) -> JsonResponse:
    return json_response(account_api.erase_meeting(_event(), meeting_id))


@app.get("/clients")
@tracer.capture_method
def list_clients() -> JsonResponse:
    return json_response(account_api.list_clients(_event()))


@app.patch("/clients/<client_id>")
@tracer.capture_method
def rename_client(client_id: str) -> JsonResponse:
    return json_response(account_api.rename_client(_event(), client_id, _json_body()))


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
