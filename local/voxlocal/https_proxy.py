"""An HTTPS proxy for tests that routes the providers' real host names to local doubles.

The code under test keeps its production configuration (``https://api.openai.com/v1``,
``https://<bucket>.s3.<region>.amazonaws.com/``, ...) and only learns, through
``HTTPS_PROXY``, to send its requests through this proxy:

* ``CONNECT host:443`` for a host that a route matches: the proxy answers
  ``200``, terminates TLS with a certificate for exactly that host name, signed
  by a throwaway certificate authority made when the proxy starts, and relays
  the decrypted bytes unchanged (``Host`` header included) to the route's
  loopback HTTP server;
* anything else is refused with ``403`` and recorded in :attr:`HttpsProxy.refused`:
  an unknown host, a port other than 443, and plain-HTTP requests (``GET
  http://...``), so a wrong base URL, host or scheme fails the test instead of
  reaching the network.

Every CONNECT is logged in :attr:`HttpsProxy.connects` as ``"host:port"``.

Clients trust the authority through the environment (see :meth:`HttpsProxy.client_environment`):
``SSL_CERT_FILE`` for httpx (and the openai SDK's httpx fork, and ``ssl``'s
default context, which urllib uses), ``AWS_CA_BUNDLE`` for botocore.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import select
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from voxlocal.emulators._http import Served, ServingThread


@dataclass(frozen=True)
class Route:
    """Hosts whose name fully matches ``pattern`` go to ``upstream`` (loopback HTTP)."""

    pattern: str
    upstream: tuple[str, int]

    def matches(self, host: str) -> bool:
        return re.fullmatch(self.pattern, host, flags=re.IGNORECASE) is not None


def aws_regional_routes(region: str, upstream: tuple[str, int]) -> list[Route]:
    """The regional public endpoints the functions use, S3 buckets virtual-hosted.

    The global ``s3.amazonaws.com`` (and ``<bucket>.s3.amazonaws.com``) is not
    among them: a client using it is refused.
    """
    r = re.escape(region)
    return [
        Route(rf"[a-z0-9][a-z0-9.-]*\.s3\.{r}\.amazonaws\.com", upstream),  # virtual-hosted
        Route(rf"s3\.{r}\.amazonaws\.com", upstream),
        Route(rf"sqs\.{r}\.amazonaws\.com", upstream),
        Route(rf"email\.{r}\.amazonaws\.com", upstream),  # SES v2
        Route(rf"secretsmanager\.{r}\.amazonaws\.com", upstream),
    ]


class _Authority:
    """A throwaway certificate authority issuing one leaf certificate per host name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voxlocal test CA")])
        ski = x509.SubjectKeyIdentifier.from_public_key(self._key.public_key())
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def server_context(self, host: str) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = self._issue(host)
                self._contexts[host] = context
            return context

    def _issue(self, host: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        stem = re.sub(r"[^A-Za-z0-9.-]", "_", host)
        cert_file = self.directory / f"{stem}.pem"
        key_file = self.directory / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


class _ProxyServer(socketserver.ThreadingTCPServer):
    """The proxy's listener: its settings on a subclass, not on the stdlib class
    every other server in the process shares."""

    allow_reuse_address = True
    daemon_threads = True


class HttpsProxy(Served):
    """``with HttpsProxy(routes) as proxy:`` then ``HTTPS_PROXY=proxy.url``."""

    def __init__(self, routes: Sequence[Route], *, idle_timeout_s: float = 30.0) -> None:
        self.routes = list(routes)
        self.idle_timeout_s = idle_timeout_s
        self.connects: list[str] = []  # every CONNECT, "host:port", refused ones included
        self.refused: list[str] = []  # what was refused and why
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._authority: _Authority | None = None
        self._serving: ServingThread | None = None

    # --- what clients need -------------------------------------------------------

    @property
    def url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the proxy is not running")
        host, port = self._serving.address
        return f"http://{host}:{port}"

    @property
    def ca_file(self) -> Path:
        if self._authority is None:
            raise RuntimeError("the proxy is not running")
        return self._authority.ca_file

    def client_environment(self) -> dict[str, str]:
        """Variables that send the SDKs through this proxy and make them trust its CA.

        ``HTTP_PROXY`` too, so that a plain-HTTP URL is refused here instead of
        going anywhere else.
        """
        ca = str(self.ca_file)
        return {
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "SSL_CERT_FILE": ca,  # httpx / httpx2 (trust_env) and ssl's default context
            "AWS_CA_BUNDLE": ca,  # botocore
        }

    def hosts(self) -> list[str]:
        """The hosts CONNECTed to, in order, without repeats."""
        with self._lock:
            return list(dict.fromkeys(self.connects))

    def route_for(self, host: str) -> tuple[str, int] | None:
        for route in self.routes:
            if route.matches(host):
                return route.upstream
        return None

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        if self._serving is not None:
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="voxlocal-proxy-")
        self._authority = _Authority(Path(self._tmp.name))
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            # Unbuffered: nothing past the CONNECT request's headers may be read
            # here (the TLS handshake that follows belongs to the relay).
            rbufsize = 0

            def handle(self) -> None:
                proxy._serve(self.connection, self.rfile)

        self._serving = ServingThread(_ProxyServer(("127.0.0.1", 0), Handler), "https-proxy")

    def stop(self) -> None:
        super().stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._authority = None

    # --- one client connection ---------------------------------------------------------

    def _refuse(self, client: socket.socket, what: str) -> None:
        with self._lock:
            self.refused.append(what)
        body = f"refused by the test proxy: {what}\n".encode()
        client.sendall(
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    def _serve(self, client: socket.socket, reader: io.BufferedIOBase) -> None:
        request_line = reader.readline(65537).decode("latin-1").strip()
        while True:  # the request's headers: nothing in them matters here
            line = reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
        parts = request_line.split()
        if len(parts) != 3 or parts[0].upper() != "CONNECT":
            self._refuse(client, f"not a CONNECT (plain HTTP is not allowed): {request_line!r}")
            return
        target = parts[1]
        host, _, port_text = target.rpartition(":")
        host = host.strip("[]").lower()
        with self._lock:
            self.connects.append(f"{host}:{port_text}")
        upstream = self.route_for(host)
        if port_text != "443":
            self._refuse(client, f"CONNECT {target}: only port 443 is routed")
            return
        if upstream is None:
            self._refuse(client, f"CONNECT {target}: no route for this host")
            return
        authority = self._authority
        if authority is None:  # stopping
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            tls = authority.server_context(host).wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self._lock:
                self.refused.append(f"CONNECT {target}: TLS handshake failed: {exc}")
            return
        try:
            with socket.create_connection(upstream, timeout=self.idle_timeout_s) as up:
                self._relay(tls, up)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def _relay(self, tls: ssl.SSLSocket, up: socket.socket) -> None:
        """Copy bytes both ways until either side closes (one thread, no SSL races)."""
        tls.settimeout(self.idle_timeout_s)
        while True:
            readable: list[socket.socket]
            if tls.pending():
                readable = [tls]
            else:
                readable, _, _ = select.select([tls, up], [], [], self.idle_timeout_s)
                if not readable:
                    return  # idle
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    if sock is tls:
                        up.shutdown(socket.SHUT_WR)
                        # Drain the upstream's answer to a half-closed request.
                        while chunk := up.recv(65536):
                            tls.sendall(chunk)
                    return
                (up if sock is tls else tls).sendall(data)
