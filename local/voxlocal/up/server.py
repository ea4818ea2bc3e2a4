"""The one HTTP server of ``make up``: the web page, its config, the dev sign-in,
the mailbox and the HTTP API, on one origin (http://127.0.0.1:8000 by default).

The dev sign-in stands where the identity provider's page stands when deployed:
it asks for an address and mints a token for it with the local issuer, which the
API's JWT authorizer then verifies like any other. It exists only here (nothing
of it is in the template): anyone reaching this port could sign in as anyone.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from voxlocal.auth import DevIssuer
from voxlocal.up.mailbox import Mailbox, list_page, message_page
from voxlocal.up.routes import Answer, HttpApi

TOKEN_TTL_S = 12 * 3600
SIGN_IN_PATH = "/auth/sign-in"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAILBOX = re.compile(r"^/mailbox/(?P<id>[^/]+)(?:/attachments/(?P<n>\d+))?$")
# Served as they must be for ES modules and the rest, whatever the system's tables say.
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json"}


class Site:
    """Everything the server answers besides the API."""

    def __init__(
        self,
        web_dir: Path,
        config: dict[str, Any],
        issuer: DevIssuer,
        audience: str,
        mailbox: Mailbox,
    ) -> None:
        self.web_dir = web_dir.resolve()
        self.config = config
        self.issuer = issuer
        self.audience = audience
        self.mailbox = mailbox

    def get(self, path: str, query: dict[str, list[str]]) -> Answer:
        if path == "/config.json":
            return _answer(200, "application/json", json.dumps(self.config).encode())
        if path == SIGN_IN_PATH:
            return _answer(
                200, "text/html; charset=utf-8", _sign_in_form(_first(query, "return_to"))
            )
        if path == "/mailbox":
            return _answer(200, "text/html; charset=utf-8", list_page(self.mailbox.mails()))
        if path == "/mailbox.json":
            return _answer(200, "application/json", json.dumps(self.mailbox.messages()).encode())
        found = _MAILBOX.match(path)
        if found:
            return self._mail(found.group("id"), found.group("n"))
        return self._static(path)

    def sign_in(self, form: dict[str, list[str]]) -> Answer:
        """Mint a token for the address given and send the browser back with it in the
        fragment (never sent to a server, never in a log)."""
        email = _first(form, "email").strip()
        return_to = _local_path(_first(form, "return_to"))
        if not _EMAIL.match(email):
            error = "Escribe una dirección de correo válida, por ejemplo ana@example.com."
            return _answer(400, "text/html; charset=utf-8", _sign_in_form(return_to, error, email))
        token = self.issuer.mint(
            f"dev|{email.lower()}",
            email,
            email_verified=True,
            audience=self.audience,
            expires_in=TOKEN_TTL_S,
        )
        answer = _answer(303, "text/plain; charset=utf-8", b"")
        answer.headers.append(("location", f"{return_to}#token={token}"))
        return answer

    def _mail(self, message_id: str, attachment: str | None) -> Answer:
        mail = self.mailbox.get(message_id)
        if mail is None:
            return _answer(404, "text/plain; charset=utf-8", b"No such email in the mailbox.")
        if attachment is None:
            return _answer(200, "text/html; charset=utf-8", message_page(mail))
        n = int(attachment)
        if n >= len(mail.attachments):
            return _answer(404, "text/plain; charset=utf-8", b"No such attachment.")
        item = mail.attachments[n]
        answer = _answer(200, item.content_type, item.data)
        answer.headers.append(
            ("content-disposition", f"attachment; filename*=UTF-8''{quote(item.filename)}")
        )
        return answer

    def _static(self, path: str) -> Answer:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (self.web_dir / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.web_dir) or not target.is_file():
            return _answer(404, "text/plain; charset=utf-8", b"Not found.")
        kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        kind = kind or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        answer = _answer(200, kind, target.read_bytes())
        answer.headers.append(("cache-control", "no-cache"))
        return answer


def _answer(status: int, content_type: str, body: bytes) -> Answer:
    return Answer(status, [("content-type", content_type)], body)


def _first(values: dict[str, list[str]], name: str) -> str:
    return (values.get(name) or [""])[0]


def _local_path(value: str) -> str:
    """Only a path of this site: never another origin (an open redirect with a token)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value.split("#", 1)[0]
    return "/"


def _sign_in_form(return_to: str, error: str = "", email: str = "") -> bytes:
    message = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="error" aria-invalid="true"' if error else ""
    return (
        '<!doctype html><html lang="es"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Entrar · VoxCliente (local)</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}"
        "label,input,button{display:block;width:100%;font-size:1rem;box-sizing:border-box}"
        "input{padding:.6rem;margin:.4rem 0 1rem;border:1px solid #555;border-radius:4px}"
        "button{padding:.7rem;background:#0b57d0;color:#fff;border:0;border-radius:4px}"
        "button:focus,input:focus{outline:3px solid #f5a623;outline-offset:2px}"
        "#error{color:#a00000}.note{color:#444}</style></head><body>"
        "<h1>Entrar</h1><p class=note>Inicio de sesión local de desarrollo: cualquier "
        "dirección vale y nada sale de este equipo.</p>"
        f'{message}<form method="post" action="{SIGN_IN_PATH}">'
        '<label for="email">Correo electrónico</label>'
        f'<input id="email" name="email" type="email" autocomplete="email" required autofocus '
        f'value="{html.escape(email)}"{described}>'
        f'<input type="hidden" name="return_to" value="{html.escape(_local_path(return_to))}">'
        '<button type="submit">Entrar</button></form></body></html>'
    ).encode()


class UpServer(ThreadingHTTPServer):
    """Bound at once (its port is in the settings the rest is built with); it serves
    once :attr:`api` and :attr:`site` are set (connections wait in the backlog)."""

    daemon_threads = True
    api: HttpApi
    site: Site


def make_server(port: int, log: Callable[[str], None]) -> UpServer:
    """The server bound to 127.0.0.1:``port`` (0: any free port); not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "voxlocal-up"

        def _serve(self) -> None:
            begun = time.monotonic()
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            try:
                answer = self._answer(headers, body)
            except Exception as exc:
                log(f"{self.command} {self.path}: {exc!r}")
                answer = _answer(500, "text/plain; charset=utf-8", b"Internal error (see the log).")
            self._send(answer)
            elapsed = (time.monotonic() - begun) * 1000
            log(f"{self.command} {urlsplit(self.path).path} {answer.status} {elapsed:.0f} ms")

        def _answer(self, headers: dict[str, str], body: bytes) -> Answer:
            parts = urlsplit(self.path)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            server: Any = self.server  # the UpServer, with its api and site
            api: HttpApi = server.api
            site: Site = server.site
            from_api = api.handle(self.command, target, headers, body, self.client_address[0])
            if from_api is not None:
                return from_api
            if self.command == "POST" and parts.path == SIGN_IN_PATH:
                return site.sign_in(parse_qs(body.decode("utf-8", errors="replace")))
            if self.command in ("GET", "HEAD"):
                return site.get(parts.path, parse_qs(parts.query))
            return _answer(405, "text/plain; charset=utf-8", b"Method not allowed.")

        def _send(self, answer: Answer) -> None:
            try:
                phrase = HTTPStatus(answer.status).phrase
            except ValueError:
                phrase = ""
            self.send_response(answer.status, phrase)
            names = {name.lower() for name, _ in answer.headers}
            for name, value in answer.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """One line per request is written by ``_serve``; the base class's goes nowhere."""

    return UpServer(("127.0.0.1", port), Handler)
