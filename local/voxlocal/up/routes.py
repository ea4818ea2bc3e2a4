"""The HTTP API of ``template.yaml``: routes -> API Gateway v2 events -> the handlers.

The route table is read from the template (every ``HttpApi`` event of every
function), so a route added there is served here without another line. What API
Gateway does before and after a function is done the same way:

* a route without ``Auth: {Authorizer: NONE}`` goes through the JWT authorizer
  (:func:`voxlocal.auth.authorize`: 401 ``{"message":"Unauthorized"}`` before the
  function runs);
* the request becomes a payload 2.0 event (:func:`voxlocal.events.http_api`:
  lower-cased headers, query parameters, path parameters, a binary body in base64);
* the answer is the function's ``statusCode``/``headers``/``cookies``/``body``
  (``isBase64Encoded`` honoured), or, for an answer without ``statusCode``, 200 with
  it as JSON; a function that raises is a 500 ``{"message":"Internal Server Error"}``;
* an unknown route is a 404 ``{"message":"Not Found"}``, and a CORS preflight is
  answered from the API's ``CorsConfiguration`` ("Configuring CORS for an HTTP API":
  the preflight never reaches a function).
"""

from __future__ import annotations

import base64
import json
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from voxlocal import events
from voxlocal import template as cfn
from voxlocal.auth import TokenRejected, authorize
from voxlocal.up.invoker import Functions

# Bodies API Gateway passes as text; anything else arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_TYPES_EXACT = ("application/x-www-form-urlencoded",)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the template writes it: /meetings/{meeting_id}
    function: str  # functions/<function>/
    logical_id: str
    authorized: bool  # behind the JWT authorizer
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z0-9_]+\+?\})", path)
    regex = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            greedy = name.endswith("+")
            regex += f"(?P<{name.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def _function_dir(resource: Mapping[str, Any], logical_id: str) -> str:
    code = str((resource.get("Properties") or {}).get("CodeUri") or "")
    name = code.rstrip("/").rsplit("/", 1)[-1]
    if not code.startswith("functions/") or not name:
        raise ValueError(f"{logical_id}: CodeUri {code!r} is not functions/<name>/")
    return name


def load_routes(template: Mapping[str, Any] | None = None) -> list[Route]:
    """Every ``HttpApi`` route of the template, the fixed paths first (API Gateway
    prefers the most specific route)."""
    loaded: dict[str, Any] = dict(template) if template is not None else cfn.load()
    api = next(iter(cfn.resources_of_type(loaded, "AWS::Serverless::HttpApi").values()), {})
    default_auth = ((api.get("Properties") or {}).get("Auth") or {}).get("DefaultAuthorizer")
    routes = []
    for logical_id, resource in cfn.resources_of_type(loaded, "AWS::Serverless::Function").items():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            authorizer = (props.get("Auth") or {}).get("Authorizer", default_auth)
            routes.append(
                Route(
                    method=str(props["Method"]).upper(),
                    path=str(props["Path"]),
                    function=_function_dir(resource, logical_id),
                    logical_id=logical_id,
                    authorized=bool(authorizer) and authorizer != "NONE",
                    pattern=_pattern(str(props["Path"])),
                )
            )
    return sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))


def function_timeouts(template: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Each function's ``Timeout`` (its own or the Globals'), the defaults resolved."""
    loaded: dict[str, Any] = dict(template) if template is not None else cfn.load()
    default = ((loaded.get("Globals") or {}).get("Function") or {}).get("Timeout", 3)
    timeouts = {}
    for logical_id, resource in cfn.resources_of_type(loaded, "AWS::Serverless::Function").items():
        node = (resource.get("Properties") or {}).get("Timeout", default)
        timeouts[_function_dir(resource, logical_id)] = int(cfn.default_value(loaded, node))
    return timeouts


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json_answer(status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> Answer:
    data = json.dumps(body, separators=(",", ":")).encode()
    return Answer(status, [("content-type", "application/json"), *headers], data)


class HttpApi:
    """The local stand-in for the deployed HTTP API."""

    def __init__(
        self,
        routes: list[Route],
        functions: Functions,
        *,
        issuer: str,
        audience: str,
        cors: Mapping[str, Any],
        origins: Sequence[str],
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.issuer = issuer
        self.audience = audience
        self.cors = cors
        self.origins = tuple(origins)

    def find(self, path: str) -> list[Route]:
        """The routes whose path matches (any method)."""
        return [r for r in self.routes if r.pattern.fullmatch(path)]

    def preflight(self, headers: Mapping[str, str]) -> Answer:
        origin = headers.get("origin", "")
        if origin not in self.origins:
            return Answer(204, [], b"")
        return Answer(
            204,
            [
                ("access-control-allow-origin", origin),
                ("access-control-allow-methods", ",".join(self.cors.get("AllowMethods") or [])),
                ("access-control-allow-headers", ",".join(self.cors.get("AllowHeaders") or [])),
                ("access-control-max-age", str(self.cors.get("MaxAge", 0))),
                ("vary", "origin"),
            ],
            b"",
        )

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        source_ip: str,
    ) -> Answer | None:
        """The answer to a request, or None when no route has this path (not the API's)."""
        path = target.split("?", 1)[0]
        candidates = self.find(path)
        if not candidates:
            return None
        if method == "OPTIONS" and "access-control-request-method" in headers:
            return self.preflight(headers)
        for route in candidates:
            params = route.match(method, path)
            if params is not None:
                return self._invoke(route, params, method, target, headers, body, source_ip)
        return _json_answer(404, {"message": "Not Found"})

    def _invoke(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        source_ip: str,
    ) -> Answer:
        event = events.http_api(
            method,
            target,
            route=route.path,
            headers=dict(headers),
            body=None,
            path_parameters=params or None,
            source_ip=source_ip,
        )
        if body:
            content_type = headers.get("content-type", "").lower()
            if content_type.startswith(_TEXT_TYPES) or content_type in _TEXT_TYPES_EXACT:
                event["body"] = body.decode("utf-8", errors="replace")
            else:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        if route.authorized:
            try:
                event = authorize(event, issuer=self.issuer, audience=self.audience)
            except TokenRejected as rejected:
                answer = rejected.response()
                return Answer(401, list(answer["headers"].items()), answer["body"].encode())
        try:
            result = self.functions.invoke(route.function, event)
        except Exception:
            traceback.print_exc()
            return _json_answer(500, {"message": "Internal Server Error"})
        return _from_result(result)


def _from_result(result: Any) -> Answer:
    """A payload 2.0 answer as API Gateway turns it into HTTP."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _json_answer(200, result)
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
    raw = result.get("body")
    if raw is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(raw)
    else:
        data = str(raw).encode("utf-8")
    return Answer(int(result["statusCode"]), headers, data)
