"""A tiny HTTPS stand-in for the Kubernetes API server's service proxy in front of a real Triton.

``/api/v1/namespaces/triton/services/triton:http/proxy/<path>`` goes to Triton's HTTP port and
``.../triton:metrics/proxy/<path>`` to its metrics port, as the API server forwards them. Requests
without the bearer token get the API server's 401 ``Status``; unknown services its 503 "no endpoints".
It serves TLS with a self-signed certificate made by ``openssl`` for 127.0.0.1, so clients must trust
``ca_file``: that proves the CA and header handling of the Triton adapter end to end.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

# hop-by-hop and proxy-owned headers are not forwarded
_DROP = {"host", "authorization", "connection", "keep-alive", "transfer-encoding", "content-length"}


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1: (certificate, key)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed")
    cert, key = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class ApiProxy:
    """Running proxy: ``base`` is its ``https://127.0.0.1:PORT``; ``seen`` records (method, path, auth)."""

    base: str
    ca_file: Path
    token: str
    server: ThreadingHTTPServer = field(repr=False)
    seen: list[tuple[str, str, str]] = field(default_factory=list)

    def service_url(self, port_name: str) -> str:
        return f"{self.base}/api/v1/namespaces/triton/services/triton:{port_name}/proxy"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_api_proxy(http_url: str, metrics_url: str, directory: Path, token: str = "s3cr3t-token") -> ApiProxy:  # noqa: S107
    """Serve the proxy routes in front of a Triton at ``http_url``/``metrics_url`` on a free port."""
    cert, key = make_certificate(directory)
    upstreams = {
        "http": urlsplit(http_url).netloc,
        "metrics": urlsplit(metrics_url).netloc,
    }
    prefix = "/api/v1/namespaces/triton/services/triton:"
    seen: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _status(self, code: int, reason: str, message: str) -> None:
            body = json.dumps(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason}
                | {"code": code}
            ).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            auth = self.headers.get("Authorization", "")
            seen.append((self.command, self.path, auth))
            if auth != f"Bearer {token}":
                self._status(401, "Unauthorized", "Unauthorized")
                return
            if not self.path.startswith(prefix):
                self._status(404, "NotFound", f"the server could not find the requested resource ({self.path})")
                return
            port_name, _, rest = self.path[len(prefix) :].partition("/proxy")
            if port_name not in upstreams:
                self._status(503, "ServiceUnavailable", f'no endpoints available for service "triton:{port_name}"')
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROP}
            upstream = http.client.HTTPConnection(upstreams[port_name], timeout=30)
            try:
                upstream.request(self.command, rest or "/", body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in _DROP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                upstream.close()

        do_GET = _forward  # noqa: N815 - http.server's naming
        do_POST = _forward  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, name="api-proxy", daemon=True).start()
    port = server.server_address[1]
    return ApiProxy(base=f"https://127.0.0.1:{port}", ca_file=cert, token=token, server=server, seen=seen)
